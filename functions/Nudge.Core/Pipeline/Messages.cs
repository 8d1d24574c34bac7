using Nudge.Core.Customers;

namespace Nudge.Core.Pipeline;

/// <summary>Queue message shapes are wire contracts: add fields, never rename.</summary>
public sealed record JourneyEventMessage(string Platform, string CustomerId, string EventId)
{
    public CustomerKey Customer => new(Platform, CustomerId);
}

/// <summary>A durable timer for one instance. <see cref="Slot"/> is set for instances keyed by a business key.</summary>
public sealed record JourneyTimerMessage(string Platform, string CustomerId, string JourneyId, int Sequence, DateTimeOffset DueAt, string? Slot = null)
{
    public CustomerKey Customer => new(Platform, CustomerId);

    public string InstanceSlot => Slot ?? JourneyId;
}

/// <summary>
/// One message to deliver. <paramref name="Order"/> carries what the journey decided, so the worker needs no row
/// before it claims one; without it (older messages, notices) the worker reads the queued row under the id.
/// </summary>
public sealed record DeliveryMessage(string Platform, string CustomerId, string DeliveryId, DeliveryOrder? Order = null)
{
    public CustomerKey Customer => new(Platform, CustomerId);

    /// <summary>The delivery log row for this order before any attempt.</summary>
    public DeliveryRecord? QueuedRecord() => Order is { } order
        ? new DeliveryRecord
        {
            DeliveryId = DeliveryId, Customer = Customer, JourneyId = order.JourneyId, StepIndex = order.StepIndex, Channel = order.Channel,
            Template = order.Template, Class = order.Class, Status = Delivery.DeliveryStatus.Queued, ScheduledFor = order.ScheduledFor,
        }
        : null;
}

/// <summary>What a journey asked to send, carried in its delivery message.</summary>
public sealed record DeliveryOrder(string JourneyId, int StepIndex, string Channel, string Template, Delivery.MessageClass Class, DateTimeOffset ScheduledFor);

/// <summary>One row of the delivery log: what a journey asked to send and what became of it.</summary>
public sealed record DeliveryRecord
{
    public required string DeliveryId { get; init; }
    public required CustomerKey Customer { get; init; }
    public required string JourneyId { get; init; }
    public required int StepIndex { get; init; }
    public required string Channel { get; init; }
    public required string Template { get; init; }
    public required Delivery.MessageClass Class { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset ScheduledFor { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? Reason { get; init; }
    public string? ProviderMessageId { get; init; }

    /// <summary>Provider calls made so far (0 while queued for the first time).</summary>
    public int Attempts { get; init; }

    /// <summary>What went out (sms, lms, alimtalk, brand, email) and through which provider.</summary>
    public string? Kind { get; init; }

    public string? Provider { get; init; }

    /// <summary>While "sending": until when the claiming worker is presumed alive (then a redelivery resumes it).</summary>
    public DateTimeOffset? ClaimedUntil { get; init; }

    /// <summary>A failed attempt may have sent it through this provider: retries go there only (see OutboundMessage).</summary>
    public string? MaybeSentVia { get; init; }
}
