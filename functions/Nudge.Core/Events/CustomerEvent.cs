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
}

public sealed record ContactFacts(string? Email, string? Phone, string? FirstName, MarketingConsent Consent, DateTimeOffset UpdatedAt);

/// <summary>Event type names are wire contracts (persisted and used in journey definitions): never rename them.</summary>
public static class EventTypes
{
    public const string CustomerSignedUp = "customer.signed_up";
    public const string OrderPlaced = "order.placed";
}
