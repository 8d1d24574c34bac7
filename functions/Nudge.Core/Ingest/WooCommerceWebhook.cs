using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>
/// Maps WooCommerce webhook deliveries (<c>X-WC-Webhook-Topic</c> + JSON body of the REST API v3 resource) to
/// internal events. WooCommerce carries no marketing consent in its customer resource: consent stays as stored.
/// </summary>
public static partial class WooCommerceWebhook
{
    public const string Platform = "woocommerce";

    public static class Topics
    {
        public const string CustomerCreated = "customer.created";
        public const string CustomerUpdated = "customer.updated";
        public const string OrderCreated = "order.created";
        public const string OrderUpdated = "order.updated";
        public const string ProductCreated = "product.created";
        public const string ProductUpdated = "product.updated";
    }

    /// <summary>The ping WooCommerce sends when a webhook is saved: a form body <c>webhook_id=N</c>, unsigned.</summary>
    public static bool IsPing(ReadOnlySpan<byte> body) => body.Length < 64 && PingPattern().IsMatch(System.Text.Encoding.ASCII.GetString(body));

    /// <summary>The shop's identity: the host of <c>X-WC-Webhook-Source</c> (the site URL).</summary>
    public static string? ShopOf(string? source) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0 ? uri.Host.ToLowerInvariant() : null;

    /// <summary>WooCommerce delivery ids count per site, so the event id carries the site too.</summary>
    public static string EventIdFor(string shop, string deliveryId) => $"{Platform}-{shop}-{deliveryId}";

    /// <param name="times">When the delivery was received: what dates a body without a time of its own.</param>
    public static IngestParse Parse(string topic, string shop, string deliveryId, ReadOnlySpan<byte> body, DeliveryTimes? times = null)
    {
        if (topic is not (Topics.CustomerCreated or Topics.CustomerUpdated or Topics.OrderCreated or Topics.OrderUpdated or Topics.ProductCreated or Topics.ProductUpdated))
        {
            return new IngestParse.Ignored($"topic '{topic}' is not used by any journey");
        }

        using var document = ParseObject(body, out var error);
        if (document is null)
        {
            return new IngestParse.Invalid(error!);
        }

        var ctx = new Context(topic, shop, EventIdFor(shop, deliveryId), times);
        var root = Unwrapped(document.RootElement);
        return topic switch
        {
            Topics.CustomerCreated => Customer(root, ctx, EventTypes.CustomerSignedUp, "date_created_gmt", "created_at"),
            Topics.CustomerUpdated => Customer(root, ctx, EventTypes.CustomerUpdated, "date_modified_gmt", "updated_at", "last_update"),
            Topics.ProductCreated or Topics.ProductUpdated => Product(root, ctx),
            _ => Order(root, ctx),
        };
    }

    /// <summary>
    /// A webhook set to the legacy API version wraps its resource (<c>{"customer": {...}}</c>, <c>{"order": {...}}</c>,
    /// <c>{"product": {...}}</c>); the REST API versions send the resource itself.
    /// </summary>
    private static JsonElement Unwrapped(JsonElement root)
    {
        foreach (var wrapper in (ReadOnlySpan<string>)["customer", "order", "product"])
        {
            if (!root.TryGetProperty("id", out _) && GetObject(root, wrapper) is { ValueKind: JsonValueKind.Object } inner)
            {
                return inner;
            }
        }

        return root;
    }

    private sealed record Context(string Topic, string Shop, string EventId, DeliveryTimes? Times)
    {
        private readonly DeliveryDating _dating = new(Times);

        public CustomerEvent Event(string customerId, string type, DateTimeOffset occurredAt, string subjectId) =>
            CustomerEvent.Of(EventId, new CustomerKey(Platform, customerId), type, occurredAt, Shop, subjectId) with
            {
                Degraded = _dating.Degraded,
            };

        /// <summary>The REST API's GMT fields, then the legacy API's, else the receipt time (<see cref="DeliveryDating.Time"/>).</summary>
        public DateTimeOffset? Time(JsonElement element, params string[] fields) => _dating.Time(element, fields);

        public IngestParse.Ignored Unusable(string what) => new($"{Topic} without {what} cannot be mapped");
    }

    private static IngestParse Customer(JsonElement customer, Context ctx, string type, params string[] timeFields)
    {
        if (!TryGetId(customer, "id", out var customerId))
        {
            // A deleted resource arrives as {"id": N} under its *.deleted topic; an unusable one here is acknowledged.
            return ctx.Unusable("a positive 'id'");
        }

        if (ctx.Time(customer, timeFields) is not { } occurredAt)
        {
            return ctx.Unusable($"'{timeFields[0]}'");
        }

        var updatedAt = TryGetFirstTime(customer, out var u, "date_modified_gmt", "updated_at", "last_update") ? u : occurredAt;
        var billing = BillingOf(customer);
        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, customerId) with
        {
            Contact = new ContactFacts(
                GetString(customer, "email") ?? GetString(billing, "email"),
                GetString(billing, "phone"),
                GetString(customer, "first_name") ?? GetString(billing, "first_name"),
                Consent: null,
                updatedAt),
        });
    }

    /// <summary>The REST API's <c>billing</c>, or the legacy API's <c>billing_address</c>.</summary>
    private static JsonElement BillingOf(JsonElement resource) =>
        GetObject(resource, "billing") is { ValueKind: JsonValueKind.Object } billing ? billing : GetObject(resource, "billing_address");

    private static IngestParse Order(JsonElement order, Context ctx)
    {
        if (!TryGetId(order, "id", out var orderId))
        {
            return ctx.Unusable("a positive 'id'");
        }

        var status = GetString(order, "status") ?? "";
        var paid = TryGetTime(order, "date_paid_gmt", out _) || GetBoolean(GetObject(order, "payment_details"), "paid") == true;
        var (type, timeFields) = ctx.Topic == Topics.OrderCreated
            ? (EventTypes.OrderPlaced, new[] { "date_created_gmt", "created_at" })
            : status switch
            {
                "processing" or "completed" when paid => (EventTypes.OrderPaid, new[] { "date_paid_gmt", "completed_at", "updated_at", "date_modified_gmt" }),
                "cancelled" => (EventTypes.OrderCancelled, new[] { "date_modified_gmt", "updated_at" }),
                "refunded" => (EventTypes.OrderRefunded, new[] { "date_modified_gmt", "updated_at" }),
                _ => ((string?)null, Array.Empty<string>()),
            };
        if (type is null)
        {
            return new IngestParse.Ignored($"order status '{status}' is not used by any journey");
        }

        // customer_id 0 is a guest checkout: acknowledged, not attributed (see the README's ingestion section).
        var customerId = order.TryGetProperty("customer_id", out var customerValue) ? IdOf(customerValue) : "";
        if (customerId.Length == 0)
        {
            return new IngestParse.Ignored("guest order without a customer account");
        }

        if (ctx.Time(order, timeFields) is not { } occurredAt)
        {
            return ctx.Unusable($"'{timeFields[0]}'");
        }

        var currency = GetString(order, "currency");
        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, orderId) with
        {
            Value = MoneyOf(order, "total", currency),
            Items = LineItems(order, "line_items", currency, variantName: "variation_id"),
        });
    }

    /// <summary>A simple product is its own variant; a variable product's variations come as their own product.updated.</summary>
    private static IngestParse Product(JsonElement product, Context ctx)
    {
        if (!TryGetId(product, "id", out var productId))
        {
            return ctx.Unusable("a positive 'id'");
        }

        if (ctx.Time(product, "date_modified_gmt", "updated_at") is not { } updatedAt)
        {
            return ctx.Unusable("'date_modified_gmt'");
        }

        var variants = GetDecimal(product, "price") is { } price
            ? new[] { new VariantPrice(productId, price, GetDecimal(product, "regular_price")) }
            : [];
        var facts = new ProductFacts(
            GetString(product, "name"),
            GetString(product, "permalink"),
            GetArray(product, "images").Select(i => GetString(i, "src")).FirstOrDefault(src => src is not null),
            variants.Length == 0 ? null : variants[0].Price,
            Currency: null,
            Published: GetString(product, "status") is null or "publish",
            InStock: GetString(product, "stock_status") is null or "instock" or "onbackorder");
        return new IngestParse.Catalog(new CatalogUpdate(Platform, ctx.Shop, productId, updatedAt, variants, facts));
    }

    [GeneratedRegex("^webhook_id=[0-9]{1,20}$")]
    private static partial Regex PingPattern();
}
