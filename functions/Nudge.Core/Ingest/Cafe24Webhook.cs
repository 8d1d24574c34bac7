using System.Security.Cryptography;
using System.Text.Json;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>
/// Maps Cafe24 webhooks — a JSON body <c>{"event_no": N, "resource": {"mall_id": ..., ...}}</c> — to internal
/// events. Which <c>event_no</c> means what is configuration; <see cref="DefaultEvents"/> are the numbers of Cafe24's
/// published webhook samples ("Event sample data", developers.cafe24.com). Some published samples put the fields
/// at the top level without <c>resource</c> (a sign-in), or carry no <c>event_no</c> at all (a member change, which
/// is recognised by its <c>diff_key</c>); both are read.
/// </summary>
public static class Cafe24Webhook
{
    public const string Platform = "cafe24";

    /// <summary>The mapping target that means "a product's price as of now" (a catalog update, not a customer event).</summary>
    public const string ProductUpdated = "product.updated";

    /// <summary>A member's information changed: Cafe24's published sample has no <c>event_no</c>, only <c>diff_key</c>.</summary>
    public const int MemberChangedEventNo = 90080;

    /// <summary>Cafe24 writes local times without an offset (<c>2022-01-25 16:54:45</c>): Korean time.</summary>
    public static readonly TimeSpan LocalOffset = TimeSpan.FromHours(9);

    /// <summary>
    /// Default event numbers, from Cafe24's published samples (set <c>Cafe24__Events__&lt;event_no&gt;</c> to an
    /// internal type, or to an empty value to drop one).
    /// </summary>
    public static IReadOnlyDictionary<int, string> DefaultEvents { get; } = new Dictionary<int, string>
    {
        [90032] = EventTypes.CustomerSignedUp,   // a customer signs up
        [90080] = EventTypes.CustomerUpdated,    // a customer's account information changed (consent flags included)
        [90143] = EventTypes.CustomerLoggedIn,   // a customer signs in
        [90023] = EventTypes.OrderPlaced,        // an order is placed
        [90025] = EventTypes.OrderPaid,          // an order's payment status changed (taken when paid = T)
        [90024] = EventTypes.OrderFulfilled,     // an order's shipping status changed (taken when delivered, shipping_status = T)
        [90026] = EventTypes.OrderCancelled,     // an order's cancellation status changed
        [90029] = EventTypes.OrderRefunded,      // an order's refund status changed
        [90084] = EventTypes.CartUpdated,        // items added to the cart
        [90148] = EventTypes.PointsChanged,      // a customer's points balance changed
        [90001] = ProductUpdated,                // a product added
        [90002] = ProductUpdated,                // a product edited
    };

    /// <summary>The mall a delivery names (<c>resource.mall_id</c>, or <c>mall_id</c> at the top), read before verification to find its key.</summary>
    public static string? MallIdOf(ReadOnlySpan<byte> body)
    {
        using var document = ParseObject(body, out _);
        return document is null ? null
            : (GetString(GetObject(document.RootElement, "resource"), "mall_id") ?? GetString(document.RootElement, "mall_id")) is { } mall && IsValidId(mall) ? mall.ToLowerInvariant() : null;
    }

    /// <summary>The delivery id: the configured header when the request carries it, else a hash of the body (a redelivery repeats the body).</summary>
    public static string DeliveryIdOf(string? header, ReadOnlySpan<byte> body) =>
        IsValidId(header) ? header! : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(body))[..40];

    public static string EventIdFor(string mallId, string deliveryId) => $"{Platform}-{mallId}-{deliveryId}";

    /// <param name="times">When the delivery was received: what dates a resource without a time of its own.</param>
    public static IngestParse Parse(string mallId, string deliveryId, ReadOnlySpan<byte> body, IReadOnlyDictionary<int, string> events, DeliveryTimes? times = null)
    {
        using var document = ParseObject(body, out var error);
        if (document is null)
        {
            return new IngestParse.Invalid(error!);
        }

        var root = document.RootElement;
        var resource = GetObject(root, "resource") is { ValueKind: JsonValueKind.Object } wrapped ? wrapped : root;
        long? eventNo = GetInt64(root, "event_no") ?? (resource.TryGetProperty("diff_key", out _) ? MemberChangedEventNo : null);
        if (eventNo is not { } number || number is <= 0 or > int.MaxValue)
        {
            return new IngestParse.Ignored("a Cafe24 webhook without an 'event_no' Nudge recognises");
        }

        return events.TryGetValue((int)number, out var type) && type.Length > 0
            ? MapResource(type, mallId, deliveryId, resource, times)
            : new IngestParse.Ignored($"event_no {number} is not used by any journey");
    }

    /// <summary>
    /// Maps a bare member or order record — a webhook's <c>resource</c>, or an Admin API record read by
    /// reconciliation (same field names) — as the internal event <paramref name="type"/>.
    /// </summary>
    public static IngestParse ParseResource(string type, string mallId, string deliveryId, ReadOnlySpan<byte> resource)
    {
        using var document = ParseObject(resource, out var error);
        return document is null ? new IngestParse.Invalid(error!) : MapResource(type, mallId, deliveryId, document.RootElement, null);
    }

    /// <summary>Per event type: the resource's own time fields, most specific first.</summary>
    private static string[] TimeFieldsOf(string type) => type switch
    {
        EventTypes.OrderPaid => ["payment_date", "updated_date"],
        EventTypes.OrderCancelled => ["cancel_date", "updated_date"],
        EventTypes.OrderRefunded => ["refund_date", "updated_date"],
        EventTypes.OrderFulfilled => ["shipped_date", "updated_date"],
        EventTypes.OrderPlaced => ["order_date", "created_date"],
        EventTypes.PointsChanged => ["issue_datetime", "updated_date"],
        EventTypes.CustomerSignedUp => ["created_date", "join_date"],
        ProductUpdated => ["updated_date", "created_date"],
        _ => ["event_date", "updated_date"],
    };

    private static IngestParse MapResource(string type, string mallId, string deliveryId, JsonElement resource, DeliveryTimes? times)
    {
        var dating = new DeliveryDating(times, LocalOffset);
        var fields = TimeFieldsOf(type);
        var occurredAt = dating.Time(resource, fields);

        if (type == ProductUpdated)
        {
            return Product(resource, mallId, occurredAt);
        }

        if (!TryGetId(resource, "member_id", out var memberId))
        {
            return resource.ValueKind == JsonValueKind.Object && resource.TryGetProperty("member_id", out _)
                ? new IngestParse.Ignored("guest (no member_id)")
                : new IngestParse.Ignored("a Cafe24 event without 'member_id' cannot be mapped");
        }

        if (occurredAt is not { } at)
        {
            return new IngestParse.Ignored($"'resource' needs a timestamp ('{fields[0]}')");
        }

        if (StatusSkip(type, resource) is { } skip)
        {
            return new IngestParse.Ignored(skip);
        }

        var currency = GetString(resource, "currency") ?? "KRW";
        var evt = CustomerEvent.Of(EventIdFor(mallId, deliveryId), new CustomerKey(Platform, memberId), type, at, mallId, GetString(resource, "order_id") ?? memberId) with
        {
            Value = MoneyOf(resource, "actual_payment_amount", currency) ?? MoneyOf(resource, "payment_amount", currency) ?? MoneyOf(resource, "order_price_amount", currency),
            Items = CartItems(resource, currency),
            PointsBalance = GetInt64(resource, "available_points") ?? GetInt64(resource, "avail_mileage") ?? GetInt64(resource, "available_mileage") ?? GetInt64(resource, "points"),
            Contact = type is EventTypes.CustomerSignedUp or EventTypes.CustomerUpdated ? ContactOf(resource, at) : null,
            Degraded = dating.Degraded,
        };
        return type == EventTypes.PointsChanged && evt.PointsBalance is null
            ? new IngestParse.Ignored("a points event without the balance ('avail_mileage') cannot be mapped")
            : new IngestParse.Mapped(evt);
    }

    /// <summary>A status event whose status is not the one its type means (unpaid, a withdrawn claim, not yet delivered): acknowledged, not mapped.</summary>
    private static string? StatusSkip(string type, JsonElement resource) => type switch
    {
        EventTypes.OrderPaid when GetString(resource, "paid") is { } paid && paid != "T" => $"payment status paid = '{paid}', not paid",
        EventTypes.OrderCancelled or EventTypes.OrderRefunded when GetString(resource, "withdraw") == "T" => "the claim was withdrawn",
        EventTypes.OrderFulfilled when GetString(resource, "shipping_status") is var status && status != "T" => $"shipping status '{status}', not delivered",
        _ => null,
    };

    /// <summary>
    /// Cafe24 flags are "T"/"F": <c>news_mail</c> is email consent, <c>sms</c> is SMS consent. A member change states
    /// only the flags it carries; a flag it does not carry stays as stored.
    /// </summary>
    private static ContactFacts ContactOf(JsonElement member, DateTimeOffset at)
    {
        var email = GetString(member, "news_mail");
        var sms = GetString(member, "sms");
        List<string> stated = [.. email is null ? Array.Empty<string>() : [ConsentMedia.Email], .. sms is null ? Array.Empty<string>() : [ConsentMedia.Sms]];
        var consent = stated.Count == 0 ? null : new MarketingConsent(email == "T", sms == "T", NightAds: false);
        return new ContactFacts(GetString(member, "email"), GetString(member, "cellphone"), GetString(member, "name"), consent, at, stated.Count == 0 ? null : stated);
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

    /// <summary>A product's selling price (<c>price</c>; <c>retail_price</c> is the crossed-out one) as one variant.</summary>
    private static IngestParse Product(JsonElement product, string mallId, DateTimeOffset? updatedAt)
    {
        if (!TryGetId(product, "product_no", out var productNo))
        {
            return new IngestParse.Ignored("a product event without 'product_no' cannot be mapped");
        }

        if (updatedAt is not { } at)
        {
            return new IngestParse.Ignored("'resource' needs a timestamp ('updated_date')");
        }

        var variants = GetDecimal(product, "price") is { } price
            ? new[] { new VariantPrice(productNo, price, GetDecimal(product, "retail_price") is { } retail and > 0 ? retail : null) }
            : [];
        // Cafe24 flags are "T"/"F": shown in the shop (display) and on sale (selling); sold_out when none is left.
        var facts = new ProductFacts(
            GetString(product, "product_name"),
            $"https://{mallId}.cafe24.com/product/detail.html?product_no={Uri.EscapeDataString(productNo)}",
            GetString(product, "detail_image") ?? GetString(product, "list_image"),
            variants.Length == 0 ? null : variants[0].Price,
            GetString(product, "currency") ?? "KRW",
            Published: GetString(product, "display") is null or "T" && GetString(product, "selling") is null or "T",
            InStock: GetString(product, "sold_out") != "T");
        return new IngestParse.Catalog(new CatalogUpdate(Platform, mallId, productNo, at, variants, facts));
    }
}
