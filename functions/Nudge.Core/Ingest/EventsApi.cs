using System.Runtime.InteropServices;
using System.Text.Json;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>
/// The signed events API for sites without a platform, in Segment's shapes: <c>identify</c> (traits: email,
/// phone, firstName and the consents emailMarketingConsent, smsMarketingConsent, nightAdsConsent), <c>track</c>
/// (event names below) and <c>page</c>. <c>messageId</c> makes a message idempotent; <c>timestamp</c> is when it
/// happened; <c>userId</c> is the customer (anonymous messages are not attributed).
/// </summary>
public static class EventsApi
{
    public const string Platform = "events";

    /// <summary>The customer platform for sites whose user ids belong to no shop platform.</summary>
    public const string DefaultCustomerPlatform = "web";

    public const int MaxBatch = 1000;

    /// <summary>Segment e-commerce event names and the internal type each becomes.</summary>
    public static IReadOnlyDictionary<string, string> TrackEvents { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["Signed Up"] = EventTypes.CustomerSignedUp,
        ["Signed In"] = EventTypes.CustomerLoggedIn,
        ["Page Viewed"] = EventTypes.PageViewed,
        ["Product Viewed"] = EventTypes.ProductViewed,
        ["Cart Updated"] = EventTypes.CartUpdated,
        ["Checkout Started"] = EventTypes.CheckoutStarted,
        ["Order Completed"] = EventTypes.OrderPlaced,
        ["Order Cancelled"] = EventTypes.OrderCancelled,
        ["Order Refunded"] = EventTypes.OrderRefunded,
        ["Points Changed"] = EventTypes.PointsChanged,
    };

    public static string EventIdFor(string source, string messageId) => $"{Platform}-{source}-{messageId}";

    /// <summary>One message: the body of <c>POST /api/events</c>.</summary>
    /// <param name="shopDomain">The shop the source's events belong to (its webhooks' domain), so product views join that shop's catalog; else the source itself.</param>
    public static (IngestParse Result, string? MessageId) ParseSingle(string source, string customerPlatform, ReadOnlySpan<byte> body, string? shopDomain = null)
    {
        using var document = ParseObject(body, out var error);
        return document is null ? (new IngestParse.Invalid(error!), null) : ParseMessage(document.RootElement, source, customerPlatform, shopDomain ?? source);
    }

    /// <summary>
    /// The body of <c>POST /api/events/batch</c>: <c>{"batch":[...]}</c>, 1 to 1,000 messages, each judged on its own.
    /// A mapped message comes with its own JSON as sent (its raw body); the others with none.
    /// </summary>
    public static IngestParse.Invalid? ParseBatch(string source, string customerPlatform, ReadOnlySpan<byte> body, out List<(IngestParse Result, string? MessageId, ReadOnlyMemory<byte> Raw)> messages, string? shopDomain = null)
    {
        messages = [];
        using var document = ParseObject(body, out var error);
        if (document is null)
        {
            return new IngestParse.Invalid(error!);
        }

        if (!document.RootElement.TryGetProperty("batch", out var batch) || batch.ValueKind != JsonValueKind.Array)
        {
            return new IngestParse.Invalid("The body must be {\"batch\": [ ...messages ]}.");
        }

        var count = batch.GetArrayLength();
        if (count is 0 or > MaxBatch)
        {
            return new IngestParse.Invalid($"A batch holds 1 to {MaxBatch} messages; this one holds {count}.");
        }

        foreach (var message in batch.EnumerateArray())
        {
            var (result, messageId) = ParseMessage(message, source, customerPlatform, shopDomain ?? source);
            messages.Add((result, messageId, result is IngestParse.Mapped ? JsonMarshal.GetRawUtf8Value(message).ToArray() : ReadOnlyMemory<byte>.Empty));
        }

        return null;
    }

    private static (IngestParse, string?) ParseMessage(JsonElement message, string source, string customerPlatform, string shopDomain)
    {
        if (message.ValueKind != JsonValueKind.Object)
        {
            return (new IngestParse.Invalid("A message must be a JSON object."), null);
        }

        var messageId = GetString(message, "messageId");
        if (!IsValidId(messageId))
        {
            return (new IngestParse.Invalid("'messageId' is required: 1 to 128 letters, digits, '-', '_', '.', ':'."), null);
        }

        return (Map(message, source, customerPlatform, shopDomain, messageId!), messageId);
    }

    private static IngestParse Map(JsonElement message, string source, string customerPlatform, string shopDomain, string messageId)
    {
        var kind = GetString(message, "type");
        if (kind is not ("identify" or "track" or "page"))
        {
            return new IngestParse.Invalid("'type' must be 'identify', 'track' or 'page'.");
        }

        if (!TryGetTime(message, "timestamp", out var occurredAt))
        {
            return new IngestParse.Invalid("'timestamp' is required as an ISO 8601 timestamp (when it happened).");
        }

        var userId = message.TryGetProperty("userId", out var user) ? IdOf(user) : "";
        if (userId.Length == 0)
        {
            return message.TryGetProperty("userId", out _)
                ? new IngestParse.Invalid("'userId' must be a positive number or 1 to 128 letters, digits, '-', '_', '.', ':'.")
                : new IngestParse.Ignored("anonymous message without a userId");
        }

        var evt = CustomerEvent.Of(EventIdFor(source, messageId), new CustomerKey(customerPlatform, userId), EventTypes.CustomerUpdated, occurredAt, shopDomain, messageId);

        if (kind == "identify")
        {
            return new IngestParse.Mapped(evt with { Contact = ContactOf(GetObject(message, "traits"), occurredAt) });
        }

        var properties = GetObject(message, "properties");
        if (kind == "page")
        {
            return new IngestParse.Mapped(evt with { Type = EventTypes.PageViewed, Url = GetString(properties, "url") });
        }

        var name = GetString(message, "event");
        if (name is null || !TrackEvents.TryGetValue(name, out var type))
        {
            // The name is the sender's free text (it could hold anything): it is not echoed into the logs.
            return new IngestParse.Ignored("this track event name is not one Nudge maps (see the README)");
        }

        var currency = GetString(properties, "currency");
        evt = evt with
        {
            Type = type,
            SubjectId = GetString(properties, "order_id") ?? GetString(properties, "checkout_id") ?? GetString(properties, "product_id") ?? messageId,
            Value = MoneyOf(properties, "total", currency) ?? MoneyOf(properties, "value", currency),
            Items = type == EventTypes.ProductViewed ? ProductOf(properties, currency) : LineItems(properties, "products", currency, variantName: "variant"),
            Url = GetString(properties, "url"),
        };
        if (type == EventTypes.ProductViewed && evt.Items is not [_])
        {
            return new IngestParse.Invalid("'Product Viewed' needs 'properties.product_id': a positive number or 1 to 128 letters, digits, '-', '_', '.', ':'.");
        }

        if (type == EventTypes.PointsChanged)
        {
            if (GetInt64(properties, "balance") is not { } balance)
            {
                return new IngestParse.Invalid("'Points Changed' needs 'properties.balance' as a whole number.");
            }

            evt = evt with { PointsBalance = balance };
        }

        return new IngestParse.Mapped(evt);
    }

    private static IReadOnlyList<LineItem> ProductOf(JsonElement properties, string? currency) =>
        TryGetId(properties, "product_id", out var productId)
            ? [new LineItem(productId, TryGetId(properties, "variant", out var v) ? v : null, 1, MoneyOf(properties, "price", currency), GetString(properties, "name"))]
            : [];

    private static ContactFacts ContactOf(JsonElement traits, DateTimeOffset at)
    {
        var email = GetBoolean(traits, "emailMarketingConsent");
        var sms = GetBoolean(traits, "smsMarketingConsent");
        var night = GetBoolean(traits, "nightAdsConsent");
        var consent = email is null && sms is null && night is null ? null : new MarketingConsent(email ?? false, sms ?? false, night ?? false);
        return new ContactFacts(GetString(traits, "email"), GetString(traits, "phone"), GetString(traits, "firstName"), consent, at);
    }
}
