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
        public const string ProductUpdated = "product.updated";
    }

    /// <summary>The ping WooCommerce sends when a webhook is saved: a form body <c>webhook_id=N</c>, unsigned.</summary>
    public static bool IsPing(ReadOnlySpan<byte> body) => body.Length < 64 && PingPattern().IsMatch(System.Text.Encoding.ASCII.GetString(body));

    /// <summary>The shop's identity: the host of <c>X-WC-Webhook-Source</c> (the site URL).</summary>
    public static string? ShopOf(string? source) =>
        Uri.TryCreate(source, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" && uri.Host.Length > 0 ? uri.Host.ToLowerInvariant() : null;

    /// <summary>WooCommerce delivery ids count per site, so the event id carries the site too.</summary>
    public static string EventIdFor(string shop, string deliveryId) => $"{Platform}-{shop}-{deliveryId}";

    public static IngestParse Parse(string topic, string shop, string deliveryId, ReadOnlySpan<byte> body)
    {
        if (topic is not (Topics.CustomerCreated or Topics.CustomerUpdated or Topics.OrderCreated or Topics.OrderUpdated or Topics.ProductUpdated))
        {
            return new IngestParse.Ignored($"topic '{topic}' is not used by any journey");
        }

        using var document = ParseObject(body, out var error);
        if (document is null)
        {
            return new IngestParse.Invalid(error!);
        }

        var root = document.RootElement;
        var eventId = EventIdFor(shop, deliveryId);
        return topic switch
        {
            Topics.CustomerCreated => Customer(root, topic, shop, eventId, EventTypes.CustomerSignedUp, "date_created_gmt"),
            Topics.CustomerUpdated => Customer(root, topic, shop, eventId, EventTypes.CustomerUpdated, "date_modified_gmt"),
            Topics.ProductUpdated => Product(root, topic, shop),
            _ => Order(root, topic, shop, eventId),
        };
    }

    private static IngestParse Customer(JsonElement customer, string topic, string shop, string eventId, string type, string timeField)
    {
        if (!TryGetId(customer, "id", out var customerId))
        {
            return new IngestParse.Invalid($"{topic} needs a positive 'id'.");
        }

        if (!TryGetFirstTime(customer, out var occurredAt, timeField, "date_created_gmt"))
        {
            return new IngestParse.Invalid($"{topic} needs '{timeField}' as a timestamp.");
        }

        var updatedAt = TryGetTime(customer, "date_modified_gmt", out var u) ? u : occurredAt;
        var billing = GetObject(customer, "billing");
        return new IngestParse.Mapped(CustomerEvent.Of(eventId, new CustomerKey(Platform, customerId), type, occurredAt, shop, customerId) with
        {
            Contact = new ContactFacts(
                GetString(customer, "email") ?? GetString(billing, "email"),
                GetString(billing, "phone"),
                GetString(customer, "first_name") ?? GetString(billing, "first_name"),
                Consent: null,
                updatedAt),
        });
    }

    private static IngestParse Order(JsonElement order, string topic, string shop, string eventId)
    {
        if (!TryGetId(order, "id", out var orderId))
        {
            return new IngestParse.Invalid($"{topic} needs a positive 'id'.");
        }

        var status = GetString(order, "status") ?? "";
        var (type, timeFields) = topic == Topics.OrderCreated
            ? (EventTypes.OrderPlaced, new[] { "date_created_gmt" })
            : status switch
            {
                "processing" or "completed" when TryGetTime(order, "date_paid_gmt", out _) => (EventTypes.OrderPaid, new[] { "date_paid_gmt" }),
                "cancelled" => (EventTypes.OrderCancelled, new[] { "date_modified_gmt" }),
                "refunded" => (EventTypes.OrderRefunded, new[] { "date_modified_gmt" }),
                _ => ((string?)null, Array.Empty<string>()),
            };
        if (type is null)
        {
            return new IngestParse.Ignored($"order status '{status}' is not used by any journey");
        }

        if (!TryGetFirstTime(order, out var occurredAt, [.. timeFields, "date_created_gmt"]))
        {
            return new IngestParse.Invalid($"{topic} needs '{timeFields[0]}' as a timestamp.");
        }

        if (!order.TryGetProperty("customer_id", out var customerValue) || customerValue.ValueKind != JsonValueKind.Number)
        {
            return new IngestParse.Invalid($"{topic} needs a numeric 'customer_id'.");
        }

        var customerId = IdOf(customerValue);
        if (customerId.Length == 0)
        {
            return new IngestParse.Ignored("guest order without a customer");
        }

        var currency = GetString(order, "currency");
        return new IngestParse.Mapped(CustomerEvent.Of(eventId, new CustomerKey(Platform, customerId), type, occurredAt, shop, orderId) with
        {
            Value = MoneyOf(order, "total", currency),
            Items = LineItems(order, "line_items", currency, variantName: "variation_id"),
        });
    }

    /// <summary>A simple product is its own variant; a variable product's variations come as their own product.updated.</summary>
    private static IngestParse Product(JsonElement product, string topic, string shop)
    {
        if (!TryGetId(product, "id", out var productId))
        {
            return new IngestParse.Invalid($"{topic} needs a positive 'id'.");
        }

        if (!TryGetTime(product, "date_modified_gmt", out var updatedAt))
        {
            return new IngestParse.Invalid($"{topic} needs 'date_modified_gmt' as a timestamp.");
        }

        var variants = GetDecimal(product, "price") is { } price
            ? new[] { new VariantPrice(productId, price, GetDecimal(product, "regular_price")) }
            : [];
        return new IngestParse.Catalog(new CatalogUpdate(Platform, shop, productId, updatedAt, variants));
    }

    [GeneratedRegex("^webhook_id=[0-9]{1,20}$")]
    private static partial Regex PingPattern();
}
