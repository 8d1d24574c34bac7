using System.ComponentModel.DataAnnotations;
using Nudge.Core.Delivery;

namespace Nudge.App.Hosting;

/// <summary>Bound from section <c>Nudge</c> (environment: <c>Nudge__MarketerApiKey</c>, ...).</summary>
public sealed class NudgeOptions : IValidatableObject
{
    public const string Section = "Nudge";

    /// <summary>The key marketers send in <c>x-api-key</c>.</summary>
    [Required, MinLength(16)]
    public string MarketerApiKey { get; set; } = "";

    /// <summary>IANA time zone for customers whose own zone is unknown; quiet hours are computed in it.</summary>
    [Required]
    public string DefaultTimeZone { get; set; } = "Asia/Seoul";

    /// <summary>Fire queue and timer triggers in process. Default: on, unless the Functions host runs the app.</summary>
    public bool? LocalTriggers { get; set; }

    /// <summary>
    /// Comma-separated function names: fire only these triggers locally (the ingest benchmark runs IngestBatches
    /// without the journeys). Empty: all.
    /// </summary>
    public string? LocalTriggerFunctions { get; set; }

    /// <summary>A folder the local sink writes each message to as rendered (the local run sets it; never in Azure: it holds personal data).</summary>
    public string? LocalOutbox { get; set; }

    /// <summary>The largest CSV one <c>POST /api/imports</c> takes (bytes); larger exports are split into several imports.</summary>
    [Range(1024, 1L << 32)]
    public long ImportMaxUploadBytes { get; set; } = Core.Imports.ImportSettings.DefaultMaxUploadBytes;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!TimeZoneInfo.TryFindSystemTimeZoneById(DefaultTimeZone, out _))
        {
            yield return new ValidationResult($"'{DefaultTimeZone}' is not a known time zone id.", [nameof(DefaultTimeZone)]);
        }
    }
}

/// <summary>Bound from section <c>Shopify</c> (environment: <c>Shopify__WebhookSecret</c>).</summary>
public sealed class ShopifyOptions : IValidatableObject
{
    public const string Section = "Shopify";

    /// <summary>
    /// The app's client secret, which Shopify uses to sign webhooks: the default for a one-shop setup, used for any
    /// Shopify domain while no Shopify shop is listed under <c>Shops</c>.
    /// </summary>
    [MinLength(8)]
    public string? WebhookSecret { get; set; }

    /// <summary>
    /// During a rotation of the client secret, the secret it replaces: Shopify may still sign with it until it is
    /// revoked. Empty (as the deployment sets it between rotations) is the same as unset.
    /// </summary>
    public string? PreviousWebhookSecret { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (PreviousWebhookSecret is { Length: > 0 and < 8 })
        {
            yield return new ValidationResult("Shopify:PreviousWebhookSecret must be empty or at least 8 characters.", [nameof(PreviousWebhookSecret)]);
        }
    }
}

/// <summary>
/// Bound from section <c>Nudge:Rules</c>: frequency caps per channel (e.g. <c>Nudge__Rules__Caps__sms__PerDay=1</c>,
/// <c>Nudge__Rules__Caps__email__PerWeek=3</c>) and <c>Nudge__Rules__MaxConcurrentMarketingJourneys</c>.
/// </summary>
public sealed class CrossJourneyOptions : IValidatableObject
{
    public const string Section = "Nudge:Rules";

    public Dictionary<string, CapOptions> Caps { get; set; } = [];

    [Range(0, 100)]
    public int MaxConcurrentMarketingJourneys { get; set; }

    public sealed class CapOptions
    {
        public int? PerDay { get; set; }
        public int? PerWeek { get; set; }
    }

    public Core.Journeys.CrossJourneyRules ToRules() => new()
    {
        Caps = Caps.ToDictionary(c => c.Key.ToLowerInvariant(), c => new Core.Journeys.FrequencyCap(c.Value.PerDay, c.Value.PerWeek)),
        MaxConcurrentMarketingJourneys = MaxConcurrentMarketingJourneys,
    };

    public const int MaxPerDay = 40;
    public const int MaxPerWeek = 150;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (channel, cap) in Caps)
        {
            if (!ChannelNames.IsKnown(channel.ToLowerInvariant()))
            {
                yield return new ValidationResult($"Caps: '{channel}' is not a channel ({string.Join(", ", ChannelNames.All)}).");
            }

            if (cap.PerDay is < 0 || cap.PerWeek is < 0 || (cap.PerDay is null && cap.PerWeek is null))
            {
                yield return new ValidationResult($"Caps:{channel} needs PerDay and/or PerWeek, not negative.");
            }

            // The delivery-time guard keeps a week and a day of a customer's slots in one table row (64 KiB).
            if (cap.PerDay > MaxPerDay || cap.PerWeek > MaxPerWeek)
            {
                yield return new ValidationResult($"Caps:{channel} may be at most {MaxPerDay} a day and {MaxPerWeek} a week: more is no cap on marketing.");
            }
        }
    }
}
