using System.ComponentModel.DataAnnotations;
using Nudge.Core.Ingest;

namespace Nudge.App.Hosting;

/// <summary>
/// Bound from section <c>Shops</c>, a list: <c>Shops__0__Platform</c>, <c>Shops__0__Domain</c>,
/// <c>Shops__0__WebhookSecret</c>, ... In Azure the secrets are Key Vault references.
/// </summary>
public sealed class ShopOptions : IValidatableObject
{
    public const string Section = "Shops";

    public static readonly string[] Platforms = [ShopifyWebhook.Platform, WooCommerceWebhook.Platform, Cafe24Webhook.Platform, EventsApi.Platform];

    [Required]
    public string Platform { get; set; } = "";

    [Required]
    public string Domain { get; set; } = "";

    public string? WebhookSecret { get; set; }

    /// <summary>During a rotation of <see cref="WebhookSecret"/>, the secret it replaces: signatures under either verify.</summary>
    public string? PreviousWebhookSecret { get; set; }

    public string? ApiKey { get; set; }
    public string? AdminApiUrl { get; set; }
    public string? AdminAccessToken { get; set; }
    public string? AdminClientId { get; set; }
    public string? AdminClientSecret { get; set; }
    public string? AdminRefreshToken { get; set; }
    public string? CustomerPlatform { get; set; }

    /// <summary>Events API only: the shop (its webhooks' domain) the source's events belong to, so views join its catalog and relations.</summary>
    public string? CustomerShop { get; set; }

    private bool IsCafe24 => string.Equals(Platform, Cafe24Webhook.Platform, StringComparison.OrdinalIgnoreCase);

    public ShopAccount ToAccount() => new()
    {
        Platform = Platform.ToLowerInvariant(),
        Domain = Domain,
        WebhookSecret = NullIfEmpty(WebhookSecret),
        PreviousWebhookSecret = NullIfEmpty(PreviousWebhookSecret),
        ApiKey = NullIfEmpty(ApiKey),
        AdminApiUrl = NullIfEmpty(AdminApiUrl) ?? (IsCafe24 && HasAny(AdminAccessToken, AdminRefreshToken) ? $"https://{Domain}.cafe24api.com/api/v2" : null),
        AdminAccessToken = NullIfEmpty(AdminAccessToken),
        AdminClientId = NullIfEmpty(AdminClientId),
        AdminClientSecret = NullIfEmpty(AdminClientSecret),
        AdminRefreshToken = NullIfEmpty(AdminRefreshToken),
        CustomerPlatform = NullIfEmpty(CustomerPlatform),
        CustomerShop = NullIfEmpty(CustomerShop)?.ToLowerInvariant(),
    };

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Platforms.Contains(Platform, StringComparer.OrdinalIgnoreCase))
        {
            yield return new ValidationResult($"Shop '{Domain}': Platform must be one of {string.Join(", ", Platforms)}.", [nameof(Platform)]);
        }

        if (WebhookSecret is { Length: > 0 and < 8 } || (string.IsNullOrEmpty(WebhookSecret) && string.IsNullOrEmpty(ApiKey)))
        {
            yield return new ValidationResult($"Shop '{Domain}' needs a WebhookSecret (8+ characters) or an ApiKey.", [nameof(WebhookSecret)]);
        }

        if (!string.IsNullOrEmpty(PreviousWebhookSecret) && (PreviousWebhookSecret.Length < 8 || string.IsNullOrEmpty(WebhookSecret)))
        {
            yield return new ValidationResult($"Shop '{Domain}': PreviousWebhookSecret (8+ characters) only goes with the WebhookSecret that replaces it.", [nameof(PreviousWebhookSecret)]);
        }

        var refreshSettings = new[] { AdminClientId, AdminClientSecret, AdminRefreshToken }.Count(v => !string.IsNullOrEmpty(v));
        if (refreshSettings > 0 && (refreshSettings < 3 || !IsCafe24))
        {
            yield return new ValidationResult($"Shop '{Domain}': AdminClientId, AdminClientSecret and AdminRefreshToken go together, and only with Cafe24.", [nameof(AdminRefreshToken)]);
        }

        if (ApiKey is { Length: > 0 and < 16 })
        {
            yield return new ValidationResult($"Shop '{Domain}': ApiKey must be at least 16 characters.", [nameof(ApiKey)]);
        }
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static bool HasAny(params string?[] values) => values.Any(v => !string.IsNullOrEmpty(v));
}
