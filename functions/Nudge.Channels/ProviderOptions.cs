using System.ComponentModel.DataAnnotations;
using Nudge.Core.Delivery;

namespace Nudge.Channels;

/// <summary>
/// ACS Email (section <c>Nudge:Email</c>): <c>Nudge__Email__AcsEndpoint</c> + <c>Nudge__Email__SenderAddress</c> with
/// managed identity in Azure; <c>Nudge__Email__ConnectionString</c> (access key) only where no identity is possible.
/// </summary>
public sealed class EmailProviderOptions : IValidatableObject
{
    public const string Section = "Nudge:Email";

    public string? AcsEndpoint { get; set; }
    public string? ConnectionString { get; set; }
    public string? SenderAddress { get; set; }

    /// <summary>Client id of the user-assigned managed identity; empty: system-assigned or developer credentials.</summary>
    public string? ManagedIdentityClientId { get; set; }

    public string ApiVersion { get; set; } = "2023-03-31";

    /// <summary>ACS Email's default quota: 30 per minute and 100 per hour.</summary>
    public string RateLimits { get; set; } = "30/1m,100/1h";

    [Range(1, 600)]
    public int MaxPollSeconds { get; set; } = 60;

    public bool Configured => !string.IsNullOrWhiteSpace(AcsEndpoint) || !string.IsNullOrWhiteSpace(ConnectionString);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Configured && string.IsNullOrWhiteSpace(SenderAddress))
        {
            yield return new ValidationResult("Nudge:Email:SenderAddress is required with an ACS endpoint (e.g. DoNotReply@<domain>).", [nameof(SenderAddress)]);
        }

        if (!string.IsNullOrWhiteSpace(AcsEndpoint) && !Uri.TryCreate(AcsEndpoint, UriKind.Absolute, out _))
        {
            yield return new ValidationResult($"Nudge:Email:AcsEndpoint '{AcsEndpoint}' is not an absolute URL.", [nameof(AcsEndpoint)]);
        }

        foreach (var error in ProviderOptionChecks.Limits(RateLimits, nameof(RateLimits)))
        {
            yield return error;
        }
    }
}

/// <summary>SMS/LMS (section <c>Nudge:Sms</c>): <c>Provider</c> solapi or acs, optional <c>FallbackProvider</c> for failover.</summary>
public sealed class SmsProviderOptions : IValidatableObject
{
    public const string Section = "Nudge:Sms";

    public string? Provider { get; set; }
    public string? FallbackProvider { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { (nameof(Provider), Provider), (nameof(FallbackProvider), FallbackProvider) })
        {
            if (!string.IsNullOrWhiteSpace(value) && value is not ("solapi" or "acs"))
            {
                yield return new ValidationResult($"Nudge:Sms:{name} must be 'solapi' or 'acs', not '{value}'.", [name]);
            }
        }
    }
}

/// <summary>Kakao (section <c>Nudge:Kakao</c>): <c>Provider</c> solapi; without it Kakao messages go out as SMS/LMS.</summary>
public sealed class KakaoProviderOptions : IValidatableObject
{
    public const string Section = "Nudge:Kakao";

    public string? Provider { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!string.IsNullOrWhiteSpace(Provider) && Provider != "solapi")
        {
            yield return new ValidationResult($"Nudge:Kakao:Provider must be 'solapi', not '{Provider}'.", [nameof(Provider)]);
        }
    }
}

/// <summary>Solapi account (section <c>Nudge:Solapi</c>).</summary>
public sealed class SolapiOptions
{
    public const string Section = "Nudge:Solapi";

    public string BaseUrl { get; set; } = "https://api.solapi.com/";
    public string? ApiKey { get; set; }
    public string? ApiSecret { get; set; }

    /// <summary>The sender number registered with the carrier (발신번호 사전등록).</summary>
    public string? SenderNumber { get; set; }

    /// <summary>The Kakao channel's sender profile id (pfId) for AlimTalk and Brand Message.</summary>
    public string? KakaoChannelId { get; set; }

    public string RateLimits { get; set; } = "50/1s";

    /// <summary>
    /// Comma-separated status codes meaning "not reachable on Kakao" (not a channel friend, no KakaoTalk user): the
    /// message falls back to SMS/LMS. The defaults are not confirmed against Solapi's published list (see README).
    /// </summary>
    public string NotOnKakaoCodes { get; set; } = "3104,3105,3106";

    /// <summary>Comma-separated status codes meaning the number does not exist or is not in service: it is suppressed.</summary>
    public string InvalidNumberCodes { get; set; } = "3059,3060";

    public IReadOnlySet<string> NotOnKakao => Codes(NotOnKakaoCodes);

    public IReadOnlySet<string> InvalidNumbers => Codes(InvalidNumberCodes);

    /// <summary>What a status code in a Solapi message report means for the delivery (4000: delivered to the handset).</summary>
    public Core.Pipeline.DeliveryReport ReportFor(string code) =>
        code == "4000" ? Core.Pipeline.DeliveryReport.Delivered
        : InvalidNumbers.Contains(code) ? Core.Pipeline.DeliveryReport.Bounced
        : NotOnKakao.Contains(code) ? Core.Pipeline.DeliveryReport.NotOnKakao
        : Core.Pipeline.DeliveryReport.NotDelivered;

    private static HashSet<string> Codes(string list) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
}

/// <summary>ACS SMS (section <c>Nudge:AcsSms</c>).</summary>
public sealed class AcsSmsOptions
{
    public const string Section = "Nudge:AcsSms";

    public string? Endpoint { get; set; }
    public string? ConnectionString { get; set; }
    public string? SenderNumber { get; set; }
    public string ApiVersion { get; set; } = "2021-03-07";
    public string RateLimits { get; set; } = "200/1m";
}

internal static class ProviderOptionChecks
{
    public static IEnumerable<ValidationResult> Limits(string text, string member)
    {
        string? error = null;
        try
        {
            _ = ParseLimits(text);
        }
        catch (FormatException e)
        {
            error = e.Message;
        }

        return error is null ? [] : [new ValidationResult(error, [member])];
    }

    public static IReadOnlyList<RateLimit> ParseLimits(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(RateLimit.Parse).ToList();
}
