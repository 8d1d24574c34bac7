using System.ComponentModel.DataAnnotations;
using Nudge.Core.Ingest;

namespace Nudge.App.Hosting;

/// <summary>
/// Bound from section <c>Cafe24</c>. What this code could not confirm about Cafe24's webhooks is a setting here,
/// so it can be corrected without a release (see the README).
/// </summary>
public sealed class Cafe24Options : IValidatableObject
{
    public const string Section = "Cafe24";
    public const string ApiKey = "ApiKey";
    public const string HmacSha256 = "HmacSha256";

    /// <summary><c>ApiKey</c>: a header carries the mall's key as is. <c>HmacSha256</c>: a header carries the base64 HMAC-SHA256 of the body.</summary>
    public string Verification { get; set; } = ApiKey;

    [Required]
    public string ApiKeyHeader { get; set; } = "X-Api-Key";

    [Required]
    public string SignatureHeader { get; set; } = "X-Cafe24-Hmac-Sha256";

    /// <summary>The header whose value identifies one delivery; without it the body's hash does.</summary>
    [Required]
    public string DeliveryIdHeader { get; set; } = "X-Trace-Id";

    /// <summary>Reconciliation: the Admin API version sent as <c>X-Cafe24-Api-Version</c> (date-based; an expired one is replaced by Cafe24).</summary>
    [Required]
    public string ApiVersion { get; set; } = "2024-09-01";

    /// <summary>Reconciliation: records per Admin API page (<c>limit</c>), and the largest <c>offset</c> Cafe24 accepts; a time window holding more is split.</summary>
    [Range(1, 1000)]
    public int AdminPageLimit { get; set; } = 100;

    [Range(0, 100_000)]
    public int AdminMaxOffset { get; set; } = 8000;

    /// <summary>Reconciliation: the <c>date_type</c> that selects members by join time (<c>customersprivacy</c>) and orders by order time (<c>orders</c>).</summary>
    [Required]
    public string AdminMemberDateType { get; set; } = "join";

    [Required]
    public string AdminOrderDateType { get; set; } = "order_date";

    /// <summary>
    /// Platform imports: the earliest join or order date read (Korean time), and the length of the date windows the
    /// import walks forward in (each read by limit/offset; one holding more than the offsets reach is halved).
    /// </summary>
    public DateTimeOffset AdminImportSince { get; set; } = new(2005, 1, 1, 0, 0, 0, TimeSpan.FromHours(9));

    [Range(1, 3660)]
    public int AdminImportWindowDays { get; set; } = 90;

    /// <summary><c>Cafe24__Events__90032=customer.signed_up</c>: event numbers added to or overriding the defaults.</summary>
    public Dictionary<string, string> Events { get; set; } = [];

    private IReadOnlyDictionary<int, string>? _eventMap;

    public IReadOnlyDictionary<int, string> EventMap() => _eventMap ??= BuildEventMap();

    private Dictionary<int, string> BuildEventMap()
    {
        var map = new Dictionary<int, string>(Cafe24Webhook.DefaultEvents);
        foreach (var (number, type) in Events)
        {
            map[int.Parse(number, System.Globalization.CultureInfo.InvariantCulture)] = type;
        }

        return map;
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Verification is not (ApiKey or HmacSha256))
        {
            yield return new ValidationResult($"Cafe24:Verification must be '{ApiKey}' or '{HmacSha256}'.", [nameof(Verification)]);
        }

        foreach (var number in Events.Keys.Where(k => !int.TryParse(k, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _)))
        {
            yield return new ValidationResult($"Cafe24:Events:{number} is not an event number.", [nameof(Events)]);
        }
    }
}
