using Nudge.Core.Customers;

namespace Nudge.Core.Events;

/// <summary>
/// The one internal event model every source maps to. <see cref="EventId"/> is deterministic from the source's
/// delivery id, so a redelivered webhook maps to the same event.
/// </summary>
public sealed record CustomerEvent
{
    public required string EventId { get; init; }
    public required CustomerKey Customer { get; init; }
    public required string Type { get; init; }

    /// <summary>When it happened at the source, not when it arrived.</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    public string? ShopDomain { get; init; }

    /// <summary>Contact and consent facts carried by the event, if any.</summary>
    public ContactFacts? Contact { get; init; }

    /// <summary>The source's id of the thing the event is about (an order id), for explanations and reconciliation.</summary>
    public string? SubjectId { get; init; }

    /// <summary>The money the event is about: an order's total, a refund, a cart's value.</summary>
    public Money? Value { get; init; }

    /// <summary>Cart, checkout or order lines; a viewed product is one line.</summary>
    public IReadOnlyList<LineItem>? Items { get; init; }

    /// <summary>A link the event carries: the abandoned checkout's recovery URL, a viewed page.</summary>
    public string? Url { get; init; }

    /// <summary>The customer's points balance after the event (points events only).</summary>
    public long? PointsBalance { get; init; }

    /// <summary>
    /// What the source's delivery lacked and how it was filled in (a missing timestamp taken from the delivery's
    /// headers or its receipt, a shop domain that disagreed with the signed header): kept with the event for whoever
    /// wonders later why it reads as it does.
    /// </summary>
    public IReadOnlyList<string>? Degraded { get; init; }

    /// <summary>Facts beyond the model, by name (a price drop's <c>dropPercent</c>, <c>oldPrice</c>, <c>newPrice</c>, <c>variantId</c>).</summary>
    public IReadOnlyDictionary<string, string>? Properties { get; init; }

    /// <summary>An event with the fields every source sets; the rest are added with <c>with</c>.</summary>
    public static CustomerEvent Of(string eventId, CustomerKey customer, string type, DateTimeOffset occurredAt, string shopDomain, string subjectId) => new()
    {
        EventId = eventId,
        Customer = customer,
        Type = type,
        OccurredAt = occurredAt,
        ShopDomain = shopDomain,
        SubjectId = subjectId,
    };
}

/// <summary>
/// Contact and consent facts as the source knew them at <see cref="UpdatedAt"/>. A null field is unknown to the
/// source (not "erased"): it leaves the stored value alone.
/// </summary>
/// <param name="ConsentStated">The consent media (<c>email</c>, <c>sms</c>, <c>night</c>) <see cref="Consent"/> speaks
/// for when the source stated only some (Shopify's consent topics carry one medium each); null: all of them.</param>
public sealed record ContactFacts(string? Email, string? Phone, string? FirstName, MarketingConsent? Consent, DateTimeOffset UpdatedAt, IReadOnlyList<string>? ConsentStated = null)
{
    /// <summary>Each medium whose consent this contact states, and whether it is granted.</summary>
    public IEnumerable<(string Medium, bool Granted)> StatedConsent() => Consent is not { } stated ? []
        : (ConsentStated ?? [Nudge.Core.Consent.ConsentMedia.Email, Nudge.Core.Consent.ConsentMedia.Sms, Nudge.Core.Consent.ConsentMedia.Night])
            .Select(medium => (medium, stated.Of(medium)));
}

/// <summary>An amount of money: decimal, never floating point, with its ISO 4217 currency.</summary>
public sealed record Money(decimal Amount, string Currency);

/// <summary>One line of a cart, checkout or order.</summary>
public sealed record LineItem(string ProductId, string? VariantId, int Quantity, Money? UnitPrice, string? Title);

/// <summary>Event type names are wire contracts (persisted and used in journey definitions): never rename them.</summary>
public static class EventTypes
{
    public const string CustomerSignedUp = "customer.signed_up";

    /// <summary>Contact or consent data changed at the source (or an identify call).</summary>
    public const string CustomerUpdated = "customer.updated";

    public const string CustomerLoggedIn = "customer.logged_in";
    public const string OrderPlaced = "order.placed";
    public const string OrderPaid = "order.paid";
    public const string OrderCancelled = "order.cancelled";
    public const string OrderRefunded = "order.refunded";

    /// <summary>The order reached the customer (Cafe24's shipping status "delivered").</summary>
    public const string OrderFulfilled = "order.fulfilled";

    /// <summary>A checkout was started; with <see cref="CheckoutUpdated"/> it is the abandoned-checkout signal.</summary>
    public const string CheckoutStarted = "checkout.started";

    public const string CheckoutUpdated = "checkout.updated";
    public const string CartUpdated = "cart.updated";
    public const string PageViewed = "page.viewed";
    public const string ProductViewed = "product.viewed";

    /// <summary>The customer's points balance changed; <see cref="CustomerEvent.PointsBalance"/> is the new balance.</summary>
    public const string PointsChanged = "points.changed";

    /// <summary>
    /// A product the customer viewed or carted got cheaper. Minted by Nudge from a catalog price drop, one per
    /// interested customer; <see cref="CustomerEvent.Properties"/> carry dropPercent, oldPrice, newPrice, variantId.
    /// </summary>
    public const string ProductPriceDropped = "product.price_dropped";

    /// <summary>Types that carry cart contents: the profile keeps the latest of them as the open cart.</summary>
    public static bool IsCart(string type) => type is CartUpdated or CheckoutStarted or CheckoutUpdated;

    public static bool IsOrder(string type) => type is OrderPlaced or OrderPaid;
}
