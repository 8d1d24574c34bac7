using System.Security.Cryptography;
using System.Text.Json;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>
/// Maps Cafe24 webhooks — a JSON body <c>{"event_no": N, "resource": {"mall_id": ..., ...}}</c> — to internal
/// events. Which <c>event_no</c> means what is configuration (<see cref="DefaultEvents"/> are defaults that could
/// not be confirmed against Cafe24's documentation here; see the README), and so are the verification scheme and
/// the delivery id header.
/// </summary>
public static class Cafe24Webhook
{
    public const string Platform = "cafe24";

    /// <summary>
    /// Default event numbers (unconfirmed: set <c>Cafe24__Events__&lt;event_no&gt;</c> to the internal type to
    /// change or add one).
    /// </summary>
    public static IReadOnlyDictionary<int, string> DefaultEvents { get; } = new Dictionary<int, string>
    {
        [90032] = EventTypes.CustomerSignedUp,
        [90023] = EventTypes.OrderPlaced,
        [90139] = EventTypes.CartUpdated,
        [90098] = EventTypes.PointsChanged,
    };

    /// <summary>The mall a delivery names, read before verification to find its key; null if the body does not name one.</summary>
    public static string? MallIdOf(ReadOnlySpan<byte> body)
    {
        using var document = ParseObject(body, out _);
        return document is null ? null : GetString(GetObject(document.RootElement, "resource"), "mall_id") is { } mall && IsValidId(mall) ? mall.ToLowerInvariant() : null;
    }

    /// <summary>The delivery id: the configured header when the request carries it, else a hash of the body (a redelivery repeats the body).</summary>
    public static string DeliveryIdOf(string? header, ReadOnlySpan<byte> body) =>
        IsValidId(header) ? header! : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body))[..40];

    public static string EventIdFor(string mallId, string deliveryId) => $"{Platform}-{mallId}-{deliveryId}";

    public static IngestParse Parse(string mallId, string deliveryId, ReadOnlySpan<byte> body, IReadOnlyDictionary<int, string> events)
    {
        using var document = ParseObject(body, out var error);
        if (document is null)
        {
            return new IngestParse.Invalid(error!);
        }

        var root = document.RootElement;
        if (GetInt64(root, "event_no") is not { } eventNo || eventNo is <= 0 or > int.MaxValue)
        {
            return new IngestParse.Invalid("A Cafe24 webhook needs a numeric 'event_no'.");
        }

        return events.TryGetValue((int)eventNo, out var type)
            ? MapResource(type, mallId, deliveryId, GetObject(root, "resource"))
            : new IngestParse.Ignored($"event_no {eventNo} is not used by any journey");
    }

    /// <summary>
    /// Maps a bare member or order record — a webhook's <c>resource</c>, or an Admin API record read by
    /// reconciliation (same field names) — as the internal event <paramref name="type"/>.
    /// </summary>
    public static IngestParse ParseResource(string type, string mallId, string deliveryId, ReadOnlySpan<byte> resource)
    {
        using var document = ParseObject(resource, out var error);
        return document is null ? new IngestParse.Invalid(error!) : MapResource(type, mallId, deliveryId, document.RootElement);
    }

    private static IngestParse MapResource(string type, string mallId, string deliveryId, JsonElement resource)
    {
        if (!TryGetId(resource, "member_id", out var memberId))
        {
            return resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("member_id", out _)
                ? new IngestParse.Ignored("guest (no member_id)")
                : new IngestParse.Invalid("'resource.member_id' is required.");
        }

        if (!TryGetFirstTime(resource, out var occurredAt, "event_date", "created_date", "join_date", "order_date", "updated_date"))
        {
            return new IngestParse.Invalid("'resource' needs a timestamp ('created_date', 'order_date', 'join_date' or 'updated_date').");
        }

        var currency = GetString(resource, "currency") ?? "KRW";
        var evt = CustomerEvent.Of(EventIdFor(mallId, deliveryId), new CustomerKey(Platform, memberId), type, occurredAt, mallId, GetString(resource, "order_id") ?? memberId) with
        {
            Value = MoneyOf(resource, "actual_payment_amount", currency) ?? MoneyOf(resource, "payment_amount", currency) ?? MoneyOf(resource, "order_price_amount", currency),
            Items = CartItems(resource, currency),
            PointsBalance = GetInt64(resource, "available_points") ?? GetInt64(resource, "points"),
            Contact = type is EventTypes.CustomerSignedUp or EventTypes.CustomerUpdated ? ContactOf(resource, occurredAt) : null,
        };
        return type == EventTypes.PointsChanged && evt.PointsBalance is null
            ? new IngestParse.Invalid("A points event needs 'resource.available_points'.")
            : new IngestParse.Mapped(evt);
    }

    /// <summary>Cafe24 flags are "T"/"F": news_mail is email consent, sms is SMS consent.</summary>
    private static ContactFacts ContactOf(JsonElement member, DateTimeOffset at)
    {
        var email = GetString(member, "news_mail");
        var sms = GetString(member, "sms");
        var consent = email is null && sms is null ? null : new MarketingConsent(email == "T", sms == "T", NightAds: false);
        return new ContactFacts(GetString(member, "email"), GetString(member, "cellphone"), GetString(member, "name"), consent, at);
    }

    private static IReadOnlyList<LineItem>? CartItems(JsonElement resource, string currency)
    {
        if (!TryGetId(resource, "product_no", out var productNo))
        {
            return null;
        }

        var quantity = GetInt64(resource, "quantity") is { } q and > 0 and < int.MaxValue ? (int)q : 1;
        var variant = GetString(resource, "variant_code");
        return [new LineItem(productNo, IsValidId(variant) ? variant : null, quantity, MoneyOf(resource, "product_price", currency), GetString(resource, "product_name"))];
    }
}
