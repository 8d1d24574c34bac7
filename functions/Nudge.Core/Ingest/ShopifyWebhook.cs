using System.Text.Json;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>Maps Shopify webhook deliveries (topic header + JSON body) to internal events.</summary>
public static class ShopifyWebhook
{
    public const string Platform = "shopify";

    public static class Topics
    {
        public const string CustomersCreate = "customers/create";
        public const string CustomersUpdate = "customers/update";
        public const string OrdersCreate = "orders/create";
        public const string OrdersPaid = "orders/paid";
        public const string OrdersCancelled = "orders/cancelled";
        public const string RefundsCreate = "refunds/create";
        public const string CheckoutsCreate = "checkouts/create";
        public const string CheckoutsUpdate = "checkouts/update";
        public const string CartsUpdate = "carts/update";
        public const string ProductsUpdate = "products/update";
        public const string CustomersDataRequest = "customers/data_request";
        public const string CustomersRedact = "customers/redact";
        public const string ShopRedact = "shop/redact";
    }

    /// <summary>Delivery ids become table keys: accept the characters Shopify uses (a UUID) and nothing that could break a key.</summary>
    public static bool IsValidDeliveryId(string? id) => IsValidId(id);

    public static string EventIdFor(string deliveryId) => $"{Platform}-{deliveryId}";

    /// <summary>
    /// The event id of a delivery that names its Shopify event (<c>X-Shopify-Event-Id</c>): the same on every delivery
    /// of one change, also on the copies a second subscription to the same topic delivers under other webhook ids, so
    /// those dedupe as Shopify advises. Type and subject are part of it because Shopify shares the header across all
    /// the deliveries one merchant action produces, which may be of several topics or resources.
    /// </summary>
    public static string EventIdFor(string shopifyEventId, string type, string subjectId) => $"{Platform}-event-{shopifyEventId}-{type}-{subjectId}";

    /// <param name="shopifyEventId">The <c>X-Shopify-Event-Id</c> header, when sent (a valid id); otherwise the delivery id identifies the event.</param>
    public static IngestParse Parse(string topic, string shopDomain, string deliveryId, ReadOnlySpan<byte> body, string? shopifyEventId = null)
    {
        Func<JsonElement, Context, IngestParse>? map = topic switch
        {
            Topics.CustomersCreate => (c, ctx) => Customer(c, ctx, EventTypes.CustomerSignedUp, "created_at"),
            Topics.CustomersUpdate => (c, ctx) => Customer(c, ctx, EventTypes.CustomerUpdated, "updated_at"),
            Topics.OrdersCreate => (o, ctx) => Order(o, ctx, EventTypes.OrderPlaced, "created_at"),
            Topics.OrdersPaid => (o, ctx) => Order(o, ctx, EventTypes.OrderPaid, "processed_at", "updated_at"),
            Topics.OrdersCancelled => (o, ctx) => Order(o, ctx, EventTypes.OrderCancelled, "cancelled_at", "updated_at"),
            Topics.RefundsCreate => Refund,
            Topics.CheckoutsCreate => (c, ctx) => Checkout(c, ctx, EventTypes.CheckoutStarted, "created_at"),
            Topics.CheckoutsUpdate => (c, ctx) => Checkout(c, ctx, EventTypes.CheckoutUpdated, "updated_at"),
            Topics.CartsUpdate => Cart,
            Topics.ProductsUpdate => Product,
            Topics.CustomersRedact => (p, ctx) => Privacy(p, ctx, PrivacyRequestKind.RedactCustomer),
            Topics.CustomersDataRequest => (p, ctx) => Privacy(p, ctx, PrivacyRequestKind.DataRequest),
            Topics.ShopRedact => (p, ctx) => Privacy(p, ctx, PrivacyRequestKind.RedactShop),
            _ => null,
        };
        if (map is null)
        {
            return new IngestParse.Ignored($"topic '{topic}' is not used by any journey");
        }

        using var document = ParseObject(body, out var error);
        return document is null ? new IngestParse.Invalid(error!) : map(document.RootElement, new Context(topic, shopDomain, EventIdFor(deliveryId), shopifyEventId));
    }

    /// <param name="DeliveryEventId">The id derived from the delivery: privacy requests keep it as their request id.</param>
    private sealed record Context(string Topic, string ShopDomain, string DeliveryEventId, string? ShopifyEventId)
    {
        public CustomerEvent Event(string customerId, string type, DateTimeOffset occurredAt, string subjectId) =>
            CustomerEvent.Of(ShopifyEventId is { } shopifyEvent ? EventIdFor(shopifyEvent, type, subjectId) : DeliveryEventId,
                new CustomerKey(Platform, customerId), type, occurredAt, ShopDomain, subjectId);

        public IngestParse.Invalid Missing(string what) => new($"{Topic} needs {what}.");
    }

    private static IngestParse Customer(JsonElement customer, Context ctx, string type, string timeField)
    {
        if (!TryGetId(customer, "id", out var customerId))
        {
            return ctx.Missing("a numeric or string 'id'");
        }

        if (!TryGetTime(customer, timeField, out var occurredAt))
        {
            return ctx.Missing($"'{timeField}' as an ISO 8601 timestamp");
        }

        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, customerId) with
        {
            Contact = ContactOf(customer, TryGetTime(customer, "updated_at", out var u) ? u : occurredAt),
        });
    }

    /// <summary>Contact and consent as Shopify states them: consent is the <c>email_marketing_consent</c> / <c>sms_marketing_consent</c> state.</summary>
    private static ContactFacts ContactOf(JsonElement customer, DateTimeOffset updatedAt) => new(
        Email: GetString(customer, "email"),
        Phone: GetString(customer, "phone") ?? GetString(GetObject(customer, "sms_marketing_consent"), "phone"),
        FirstName: GetString(customer, "first_name"),
        Consent: new MarketingConsent(
            Email: IsSubscribed(customer, "email_marketing_consent"),
            Sms: IsSubscribed(customer, "sms_marketing_consent"),
            NightAds: false), // Shopify has no notion of the Korean night consent.
        UpdatedAt: updatedAt);

    private static bool IsSubscribed(JsonElement customer, string consentProperty) =>
        GetString(GetObject(customer, consentProperty), "state") == "subscribed";

    private static IngestParse Order(JsonElement order, Context ctx, string type, params string[] timeFields)
    {
        if (!TryGetId(order, "id", out var orderId))
        {
            return ctx.Missing("a numeric or string 'id'");
        }

        if (!TryGetFirstTime(order, out var occurredAt, [.. timeFields, "created_at"]))
        {
            return ctx.Missing($"'{timeFields[0]}' or 'created_at' as an ISO 8601 timestamp");
        }

        if (WithCustomer(order, ctx, out var customerId) is { } problem)
        {
            return problem;
        }

        var currency = GetString(order, "currency");
        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, orderId) with
        {
            Value = MoneyOf(order, "total_price", currency),
            Items = LineItems(order, "line_items", currency),
        });
    }

    /// <summary>A refund names its order, not the customer; the amount is the sum of its refund transactions.</summary>
    private static IngestParse Refund(JsonElement refund, Context ctx)
    {
        if (!TryGetId(refund, "order_id", out var orderId))
        {
            return ctx.Missing("a numeric 'order_id'");
        }

        if (!TryGetFirstTime(refund, out var occurredAt, "processed_at", "created_at"))
        {
            return ctx.Missing("'created_at' as an ISO 8601 timestamp");
        }

        decimal amount = 0;
        string? currency = null;
        foreach (var transaction in GetArray(refund, "transactions"))
        {
            if (GetString(transaction, "kind") is null or "refund" && GetString(transaction, "status") is null or "success" && GetDecimal(transaction, "amount") is { } value)
            {
                amount += value;
                currency ??= GetString(transaction, "currency");
            }
        }

        var evt = ctx.Event(customerId: "", EventTypes.OrderRefunded, occurredAt, orderId) with
        {
            Value = currency is { Length: 3 } ? new Money(amount, currency.ToUpperInvariant()) : null,
        };
        return new IngestParse.OrderScoped(orderId, evt);
    }

    private static IngestParse Checkout(JsonElement checkout, Context ctx, string type, string timeField)
    {
        var checkoutId = TryGetId(checkout, "id", out var id) ? id : GetString(checkout, "token");
        if (checkoutId is null || !IsValidId(checkoutId))
        {
            return ctx.Missing("an 'id' or 'token'");
        }

        if (!TryGetFirstTime(checkout, out var occurredAt, timeField, "created_at"))
        {
            return ctx.Missing($"'{timeField}' as an ISO 8601 timestamp");
        }

        if (WithCustomer(checkout, ctx, out var customerId) is { } problem)
        {
            return problem;
        }

        var currency = GetString(checkout, "currency") ?? GetString(checkout, "presentment_currency");
        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, checkoutId) with
        {
            Value = MoneyOf(checkout, "total_price", currency),
            Items = LineItems(checkout, "line_items", currency),
            Url = GetString(checkout, "abandoned_checkout_url"),
        });
    }

    /// <summary>Shopify's cart payloads usually carry no customer; only a cart that names one can be attributed.</summary>
    private static IngestParse Cart(JsonElement cart, Context ctx)
    {
        var cartId = GetString(cart, "token") ?? (TryGetId(cart, "id", out var id) ? id : null);
        if (cartId is null || !IsValidId(cartId))
        {
            return ctx.Missing("a 'token' or 'id'");
        }

        if (!TryGetFirstTime(cart, out var occurredAt, "updated_at", "created_at"))
        {
            return ctx.Missing("'updated_at' as an ISO 8601 timestamp");
        }

        if (!TryGetId(GetObject(cart, "customer"), "id", out var customerId))
        {
            return new IngestParse.Ignored("cart without a customer (attributed through its checkout instead)");
        }

        var currency = GetString(cart, "currency");
        return new IngestParse.Mapped(ctx.Event(customerId, EventTypes.CartUpdated, occurredAt, cartId) with
        {
            Items = LineItems(cart, "line_items", currency),
        });
    }

    private static IngestParse Product(JsonElement product, Context ctx)
    {
        if (!TryGetId(product, "id", out var productId))
        {
            return ctx.Missing("a numeric or string 'id'");
        }

        if (!TryGetTime(product, "updated_at", out var updatedAt))
        {
            return ctx.Missing("'updated_at' as an ISO 8601 timestamp");
        }

        var variants = new List<VariantPrice>();
        foreach (var variant in GetArray(product, "variants"))
        {
            if (TryGetId(variant, "id", out var variantId) && GetDecimal(variant, "price") is { } price)
            {
                variants.Add(new VariantPrice(variantId, price, GetDecimal(variant, "compare_at_price")));
            }
        }

        return new IngestParse.Catalog(new CatalogUpdate(Platform, ctx.ShopDomain, productId, updatedAt, variants));
    }

    private static IngestParse Privacy(JsonElement payload, Context ctx, PrivacyRequestKind kind)
    {
        var domain = GetString(payload, "shop_domain");
        if (domain is not null && !string.Equals(domain, ctx.ShopDomain, StringComparison.OrdinalIgnoreCase))
        {
            return new IngestParse.Invalid($"{ctx.Topic}: 'shop_domain' does not match X-Shopify-Shop-Domain.");
        }

        string? customerId = null;
        if (kind != PrivacyRequestKind.RedactShop && !TryGetId(GetObject(payload, "customer"), "id", out customerId))
        {
            return ctx.Missing("'customer.id'");
        }

        return new IngestParse.Privacy(new PrivacyRequest(kind, Platform, ctx.ShopDomain, customerId, ctx.DeliveryEventId));
    }

    /// <summary>Null and the customer's id when the payload names one; a guest is ignored, a malformed customer is invalid.</summary>
    private static IngestParse? WithCustomer(JsonElement owner, Context ctx, out string customerId)
    {
        customerId = "";
        if (!owner.TryGetProperty("customer", out var customer) || customer.ValueKind == JsonValueKind.Null)
        {
            return new IngestParse.Ignored("guest without a customer");
        }

        return customer.ValueKind == JsonValueKind.Object && TryGetId(customer, "id", out customerId) ? null : ctx.Missing("'customer' with an 'id'");
    }
}
