using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Core.Customers;
using Nudge.Core.Events;

namespace Nudge.Core.Ingest;

/// <summary>Maps Shopify webhook deliveries (topic header + JSON body) to internal events.</summary>
public static partial class ShopifyWebhook
{
    public const string Platform = "shopify";

    public static class Topics
    {
        public const string CustomersCreate = "customers/create";
        public const string OrdersCreate = "orders/create";
    }

    /// <summary>Delivery ids become table keys: accept the characters Shopify uses (a UUID) and nothing that could break a key.</summary>
    public static bool IsValidDeliveryId(string? id) => id is not null && DeliveryIdPattern().IsMatch(id);

    public static string EventIdFor(string deliveryId) => $"{Platform}-{deliveryId}";

    public static IngestParse Parse(string topic, string shopDomain, string deliveryId, ReadOnlySpan<byte> body)
    {
        if (topic is not (Topics.CustomersCreate or Topics.OrdersCreate))
        {
            return new IngestParse.Ignored($"topic '{topic}' is not used by any journey");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException)
        {
            return new IngestParse.Invalid("The body is not valid JSON.");
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new IngestParse.Invalid("The body must be a JSON object.");
            }

            var eventId = EventIdFor(deliveryId);
            return topic == Topics.CustomersCreate
                ? ParseCustomer(document.RootElement, shopDomain, eventId)
                : ParseOrder(document.RootElement, shopDomain, eventId);
        }
    }

    private static IngestParse ParseCustomer(JsonElement customer, string shopDomain, string eventId)
    {
        if (!TryGetId(customer, "id", out var customerId))
        {
            return new IngestParse.Invalid("customers/create needs a numeric or string 'id'.");
        }

        if (!TryGetTime(customer, "created_at", out var createdAt))
        {
            return new IngestParse.Invalid("customers/create needs 'created_at' as an ISO 8601 timestamp.");
        }

        var updatedAt = TryGetTime(customer, "updated_at", out var u) ? u : createdAt;
        var consent = new MarketingConsent(
            Email: IsSubscribed(customer, "email_marketing_consent"),
            Sms: IsSubscribed(customer, "sms_marketing_consent"),
            NightAds: false); // Shopify has no notion of the Korean night consent.

        return new IngestParse.Mapped(new CustomerEvent
        {
            EventId = eventId,
            Customer = new CustomerKey(Platform, customerId),
            Type = EventTypes.CustomerSignedUp,
            OccurredAt = createdAt,
            ShopDomain = shopDomain,
            SubjectId = customerId,
            Contact = new ContactFacts(
                Email: GetString(customer, "email"),
                Phone: GetString(customer, "phone") ?? GetNestedString(customer, "sms_marketing_consent", "phone"),
                FirstName: GetString(customer, "first_name"),
                Consent: consent,
                UpdatedAt: updatedAt),
        });
    }

    private static IngestParse ParseOrder(JsonElement order, string shopDomain, string eventId)
    {
        if (!TryGetId(order, "id", out var orderId))
        {
            return new IngestParse.Invalid("orders/create needs a numeric or string 'id'.");
        }

        if (!TryGetTime(order, "created_at", out var createdAt))
        {
            return new IngestParse.Invalid("orders/create needs 'created_at' as an ISO 8601 timestamp.");
        }

        if (!order.TryGetProperty("customer", out var customer) || customer.ValueKind == JsonValueKind.Null)
        {
            return new IngestParse.Ignored("guest order without a customer");
        }

        if (customer.ValueKind != JsonValueKind.Object || !TryGetId(customer, "id", out var customerId))
        {
            return new IngestParse.Invalid("orders/create 'customer' needs an 'id'.");
        }

        return new IngestParse.Mapped(new CustomerEvent
        {
            EventId = eventId,
            Customer = new CustomerKey(Platform, customerId),
            Type = EventTypes.OrderPlaced,
            OccurredAt = createdAt,
            ShopDomain = shopDomain,
            SubjectId = orderId,
        });
    }

    private static bool TryGetId(JsonElement element, string name, out string id)
    {
        id = "";
        if (!element.TryGetProperty(name, out var value))
        {
            return false;
        }

        id = value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetInt64(out var n) && n > 0 => n.ToString(CultureInfo.InvariantCulture),
            JsonValueKind.String when IsValidDeliveryId(value.GetString()) => value.GetString()!,
            _ => "",
        };
        return id.Length > 0;
    }

    private static bool TryGetTime(JsonElement element, string name, out DateTimeOffset time)
    {
        time = default;
        return element.TryGetProperty(name, out var value)
            && value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out time);
    }

    private static string? GetString(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } s ? s : null;

    private static string? GetNestedString(JsonElement element, string parent, string name) =>
        element.TryGetProperty(parent, out var nested) && nested.ValueKind == JsonValueKind.Object ? GetString(nested, name) : null;

    private static bool IsSubscribed(JsonElement customer, string consentProperty) =>
        GetNestedString(customer, consentProperty, "state") == "subscribed";

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex DeliveryIdPattern();
}
