using System.ComponentModel.DataAnnotations;

namespace Nudge.Channels;

/// <summary>
/// Bound from section <c>Nudge:Channels</c> (environment <c>Nudge__Channels__SenderName</c>, ...): who ads name as
/// their sender, the free opt-out number, and where the app's public links (unsubscribe, click redirect) point.
/// </summary>
public sealed class ChannelOptions : IValidatableObject
{
    public const string Section = "Nudge:Channels";

    /// <summary>The sender named in every ad, right after <c>(광고)</c> (the shop's name).</summary>
    [Required]
    public string SenderName { get; set; } = "";

    /// <summary>The free opt-out number every SMS/LMS ad ends with (<c>무료수신거부 080-…</c>).</summary>
    [Required]
    public string OptOutNumber { get; set; } = "";

    /// <summary>The app's public base URL: unsubscribe and click-redirect links are built on it.</summary>
    [Required]
    public string PublicBaseUrl { get; set; } = "";

    /// <summary>Key that signs unsubscribe and click tokens (at least 16 characters).</summary>
    [Required, MinLength(16)]
    public string LinkSecret { get; set; } = "";

    /// <summary>Key providers present on their report callbacks (<c>?key=</c> in the webhook URL given to Event Grid / Solapi).</summary>
    [Required, MinLength(16)]
    public string CallbackKey { get; set; } = "";

    /// <summary>The shop's currency (ISO 4217): prices of products whose source names none are shown in it.</summary>
    [Required, RegularExpression("^[A-Z]{3}$")]
    public string Currency { get; set; } = "KRW";

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Uri.TryCreate(PublicBaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            yield return new ValidationResult($"'{PublicBaseUrl}' is not an absolute http(s) URL.", [nameof(PublicBaseUrl)]);
        }

        if (!System.Text.RegularExpressions.Regex.IsMatch(OptOutNumber, @"^0\d{2,3}-?\d{3,4}-?\d{4}$"))
        {
            yield return new ValidationResult($"'{OptOutNumber}' is not a Korean phone number (a free 080 number is expected).", [nameof(OptOutNumber)]);
        }
    }

    public Core.Compliance.SenderIdentity Identity => new(SenderName, OptOutNumber);
}
