using System.Text.Json;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using static Nudge.Core.Ingest.JsonFields;

namespace Nudge.Core.Ingest;

/// <summary>Maps Shopify webhook deliveries (topic header + JSON body) to internal events.</summary>
public static partial class ShopifyWebhook
{
    public const string Platform = "shopify";

    public static class Topics
    {
        public const string CustomersCreate = "customers/create";
        public const string CustomersUpdate = "customers/update";

        /// <summary>Email marketing consent changed (API 2025-01 on: no longer in the customer payload).</summary>
        public const string CustomersEmailConsentUpdate = "customers_email_marketing_consent/update";

        /// <summary>SMS marketing consent changed (API 2025-01 on: no longer in the customer payload).</summary>
        public const string CustomersSmsConsentUpdate = "customers_marketing_consent/update";
        public const string OrdersCreate = "orders/create";
        public const string OrdersPaid = "orders/paid";
        public const string OrdersCancelled = "orders/cancelled";
        public const string RefundsCreate = "refunds/create";
        public const string CheckoutsCreate = "checkouts/create";
        public const string CheckoutsUpdate = "checkouts/update";
        public const string CartsUpdate = "carts/update";
        public const string ProductsCreate = "products/create";
        public const string ProductsUpdate = "products/update";
        public const string CustomersDataRequest = "customers/data_request";
        public const string CustomersRedact = "customers/redact";
        public const string ShopRedact = "shop/redact";
    }

    /// <summary>Delivery ids become table keys: accept the characters Shopify uses (a UUID) and nothing that could break a key.</summary>
    public static bool IsValidDeliveryId(string? id) => IsValidId(id);

    public static string EventIdFor(string deliveryId) => $"{Platform}-{deliveryId}";

    /// <summary>
    /// <c>X-Shopify-Triggered-At</c>: when Shopify triggered the delivery (the same on its retries), ISO 8601 with up to
    /// nine fractional digits; null if absent or unreadable.
    /// </summary>
    public static DateTimeOffset? TriggeredAt(string? header)
    {
        if (string.IsNullOrWhiteSpace(header) || header.Length > 64)
        {
            return null;
        }

        // .NET reads at most seven fractional digits; Shopify sends nine.
        var text = FractionBeyondTicks().Replace(header.Trim(), "$1");
        return TryParseTime(text, TimeSpan.Zero, out var time) ? time : null;
    }

    /// <summary>
    /// The event id of a delivery that names its Shopify event (<c>X-Shopify-Event-Id</c>): the same on every delivery
    /// of one change, also on the copies a second subscription to the same topic delivers under other webhook ids, so
    /// those dedupe as Shopify advises. Type and subject are part of it because Shopify shares the header across all
    /// the deliveries one merchant action produces, which may be of several topics or resources.
    /// </summary>
    public static string EventIdFor(string shopifyEventId, string type, string subjectId) => $"{Platform}-event-{shopifyEventId}-{type}-{subjectId}";

    /// <param name="shopifyEventId">The <c>X-Shopify-Event-Id</c> header, when sent (a valid id); otherwise the delivery id identifies the event.</param>
    /// <param name="times">When the delivery was triggered and received: what dates a body without a time of its own.</param>
    public static IngestParse Parse(string topic, string shopDomain, string deliveryId, ReadOnlySpan<byte> body, string? shopifyEventId = null, DeliveryTimes? times = null)
    {
        Func<JsonElement, Context, IngestParse>? map = topic switch
        {
            Topics.CustomersCreate => (c, ctx) => Customer(c, ctx, EventTypes.CustomerSignedUp, "created_at"),
            Topics.CustomersUpdate => (c, ctx) => Customer(c, ctx, EventTypes.CustomerUpdated, "updated_at"),
            Topics.CustomersEmailConsentUpdate => (c, ctx) => ConsentUpdate(c, ctx, "customer_id", "email_address", "email_marketing_consent", ConsentMedia.Email),
            Topics.CustomersSmsConsentUpdate => (c, ctx) => ConsentUpdate(c, ctx, "id", "phone", "sms_marketing_consent", ConsentMedia.Sms),
            Topics.OrdersCreate => (o, ctx) => Order(o, ctx, EventTypes.OrderPlaced, "created_at"),
            Topics.OrdersPaid => (o, ctx) => Order(o, ctx, EventTypes.OrderPaid, "processed_at", "updated_at"),
            Topics.OrdersCancelled => (o, ctx) => Order(o, ctx, EventTypes.OrderCancelled, "cancelled_at", "updated_at"),
            Topics.RefundsCreate => Refund,
            Topics.CheckoutsCreate => (c, ctx) => Checkout(c, ctx, EventTypes.CheckoutStarted, "created_at"),
            Topics.CheckoutsUpdate => (c, ctx) => Checkout(c, ctx, EventTypes.CheckoutUpdated, "updated_at"),
            Topics.CartsUpdate => Cart,
            Topics.ProductsCreate or Topics.ProductsUpdate => Product,
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
        return document is null ? new IngestParse.Invalid(error!) : map(document.RootElement, new Context(topic, shopDomain, EventIdFor(deliveryId), shopifyEventId, times));
    }

    /// <param name="DeliveryEventId">The id derived from the delivery: privacy requests keep it as their request id.</param>
    private sealed record Context(string Topic, string ShopDomain, string DeliveryEventId, string? ShopifyEventId, DeliveryTimes? Times)
    {
        private readonly DeliveryDating _dating = new(Times);

        public CustomerEvent Event(string customerId, string type, DateTimeOffset occurredAt, string subjectId) =>
            CustomerEvent.Of(ShopifyEventId is { } shopifyEvent ? EventIdFor(shopifyEvent, type, subjectId) : DeliveryEventId,
                new CustomerKey(Platform, customerId), type, occurredAt, ShopDomain, subjectId) with
            {
                Degraded = _dating.Degraded,
            };

        /// <inheritdoc cref="DeliveryDating.Time"/>
        public DateTimeOffset? Time(JsonElement element, params string[] fields) => _dating.Time(element, fields);

        /// <summary>A signed delivery that names nothing Nudge can attribute: acknowledged (2xx) and logged with the reason, never refused.</summary>
        public IngestParse.Ignored Unusable(string what) => new($"{Topic} without {what} cannot be mapped");
    }

    private static IngestParse Customer(JsonElement customer, Context ctx, string type, string timeField)
    {
        if (!TryGetId(customer, "id", out var customerId))
        {
            return ctx.Unusable("a numeric or string 'id'");
        }

        if (ctx.Time(customer, timeField) is not { } occurredAt)
        {
            return ctx.Unusable($"'{timeField}'");
        }

        var contactAt = ctx.Time(customer, "updated_at") ?? occurredAt;
        return new IngestParse.Mapped(ctx.Event(customerId, type, occurredAt, customerId) with
        {
            Contact = ContactOf(customer, contactAt),
        });
    }

    /// <summary>
    /// Contact and consent as Shopify states them: consent is the <c>email_marketing_consent</c> / <c>sms_marketing_consent</c>
    /// state. Since API 2025-01 customer payloads carry neither (consent comes on its own topics), and an app without
    /// access to protected customer data gets blank email, phone and name: what is absent or blank stays as stored.
    /// </summary>
    private static ContactFacts ContactOf(JsonElement customer, DateTimeOffset updatedAt)
    {
        var emailConsent = GetObject(customer, "email_marketing_consent");
        var smsConsent = GetObject(customer, "sms_marketing_consent");
        List<string> stated = [.. emailConsent.ValueKind == JsonValueKind.Object ? [ConsentMedia.Email] : Array.Empty<string>(),
            .. smsConsent.ValueKind == JsonValueKind.Object ? [ConsentMedia.Sms] : Array.Empty<string>()];
        return new ContactFacts(
            Email: GetString(customer, "email"),
            Phone: GetString(customer, "phone") ?? GetString(smsConsent, "phone"),
            FirstName: GetString(customer, "first_name"),
            // Shopify has no notion of the Korean night consent: it is never stated here.
            Consent: stated.Count == 0 ? null : new MarketingConsent(Email: IsSubscribed(emailConsent), Sms: IsSubscribed(smsConsent), NightAds: false),
            UpdatedAt: updatedAt,
            ConsentStated: stated.Count == 0 ? null : stated);
    }

    private static bool IsSubscribed(JsonElement consent) => GetString(consent, "state") == "subscribed";

    /// <summary>
    /// <c>customers_email_marketing_consent/update</c> and <c>customers_marketing_consent/update</c>: one medium's consent
    /// (and its address). A state Shopify leaves null says nothing about the consent.
    /// </summary>
    private static IngestParse ConsentUpdate(JsonElement payload, Context ctx, string idField, string addressField, string consentField, string medium)
    {
        if (!TryGetId(payload, idField, out var customerId))
        {
            return ctx.Unusable($"a numeric '{idField}'");
        }

        var consent = GetObject(payload, consentField);
        if (ctx.Time(consent, "consent_updated_at") is not { } at)
        {
            return ctx.Unusable("'consent_updated_at'");
        }

        var granted = GetString(consent, "state") is { } state ? state == "subscribed" : (bool?)null;
        var address = GetString(payload, addressField);
        return new IngestParse.Mapped(ctx.Event(customerId, EventTypes.CustomerUpdated, at, customerId) with
        {
            Contact = new ContactFacts(
                Email: medium == ConsentMedia.Email ? address : null,
                Phone: medium == ConsentMedia.Sms ? address : null,
                FirstName: null,
                Consent: granted is { } g ? new MarketingConsent(Email: g, Sms: g, NightAds: false) : null,
                UpdatedAt: at,
                ConsentStated: [medium]),
        });
    }

    private static IngestParse Order(JsonElement order, Context ctx, string type, params string[] timeFields)
    {
        if (!TryGetId(order, "id", out var orderId))
        {
            return ctx.Unusable("a numeric or string 'id'");
        }

        if (WithCustomer(order, ctx, out var customerId) is { } notAttributed)
        {
            return notAttributed;
        }

        if (ctx.Time(order, [.. timeFields, "created_at"]) is not { } occurredAt)
        {
            return ctx.Unusable($"'{timeFields[0]}'");
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
            return ctx.Unusable("a numeric 'order_id'");
        }

        if (ctx.Time(refund, "processed_at", "created_at") is not { } occurredAt)
        {
            return ctx.Unusable("'created_at'");
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
            return ctx.Unusable("an 'id' or 'token'");
        }

        if (WithCustomer(checkout, ctx, out var customerId) is { } notAttributed)
        {
            return notAttributed;
        }

        if (ctx.Time(checkout, timeField, "created_at") is not { } occurredAt)
        {
            return ctx.Unusable($"'{timeField}'");
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
            return ctx.Unusable("a 'token' or 'id'");
        }

        if (!TryGetId(GetObject(cart, "customer"), "id", out var customerId))
        {
            return new IngestParse.Ignored("cart without a customer (attributed through its checkout instead)");
        }

        if (ctx.Time(cart, "updated_at", "created_at") is not { } occurredAt)
        {
            return ctx.Unusable("'updated_at'");
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
            return ctx.Unusable("a numeric or string 'id'");
        }

        if (ctx.Time(product, "updated_at", "created_at") is not { } updatedAt)
        {
            return ctx.Unusable("'updated_at'");
        }

        var variants = new List<VariantPrice>();
        foreach (var variant in GetArray(product, "variants"))
        {
            if (TryGetId(variant, "id", out var variantId) && GetDecimal(variant, "price") is { } price)
            {
                variants.Add(new VariantPrice(variantId, price, GetDecimal(variant, "compare_at_price")));
            }
        }

        return new IngestParse.Catalog(new CatalogUpdate(Platform, ctx.ShopDomain, productId, updatedAt, variants, ProductFactsOf(product, ctx.ShopDomain, variants)));
    }

    /// <summary>
    /// Published: <c>status</c> active (or absent, as in older API versions) with a <c>published_at</c>. In stock: a
    /// variant Shopify does not track, that may be sold out of stock (<c>inventory_policy</c> continue), or with units left.
    /// </summary>
    private static ProductFacts ProductFactsOf(JsonElement product, string shopDomain, IReadOnlyList<VariantPrice> variants)
    {
        var status = GetString(product, "status");
        var published = status is null or "active" && GetString(product, "published_at") is not null;
        var inStock = GetArray(product, "variants").Any(v =>
            GetString(v, "inventory_management") is null || GetString(v, "inventory_policy") == "continue" || GetInt64(v, "inventory_quantity") is > 0);
        var handle = GetString(product, "handle");
        var image = GetString(GetObject(product, "image"), "src") ?? GetArray(product, "images").Select(i => GetString(i, "src")).FirstOrDefault(src => src is not null);
        return new ProductFacts(
            GetString(product, "title"),
            handle is null ? null : $"https://{shopDomain}/products/{Uri.EscapeDataString(handle)}",
            image,
            variants.Count == 0 ? null : variants.Min(v => v.Price),
            Currency: null,
            published,
            inStock);
    }

    private static IngestParse Privacy(JsonElement payload, Context ctx, PrivacyRequestKind kind)
    {
        // The shop is the one the signed header names (its secret signed the body); the body's 'shop_domain' is not
        // trusted over it (Shopify's own sample carries a placeholder there).
        string? customerId = null;
        if (kind != PrivacyRequestKind.RedactShop && !TryGetId(GetObject(payload, "customer"), "id", out customerId))
        {
            return ctx.Unusable("'customer.id'");
        }

        return new IngestParse.Privacy(new PrivacyRequest(kind, Platform, ctx.ShopDomain, customerId, ctx.DeliveryEventId));
    }

    /// <summary>
    /// Null and the customer's id when the payload names one. A guest (no customer, or one without an id) is
    /// acknowledged and not attributed: journeys run for customers with an account, whose consent the shop recorded.
    /// </summary>
    private static IngestParse? WithCustomer(JsonElement owner, Context ctx, out string customerId) =>
        TryGetId(GetObject(owner, "customer"), "id", out customerId) ? null : new IngestParse.Ignored("guest without a customer account");

    [System.Text.RegularExpressions.GeneratedRegex(@"(\.\d{7})\d+")]
    private static partial System.Text.RegularExpressions.Regex FractionBeyondTicks();
}
