using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>A stored value and the opaque version token (an ETag) that guards its next write.</summary>
public sealed record Versioned<T>(T Value, string Version);

public enum EventAddResult
{
    /// <summary>First time this event id is seen.</summary>
    Added,

    /// <summary>Seen before, but its dispatch to the journeys may not have happened (a crash in between).</summary>
    SeenNotDispatched,

    /// <summary>Seen and dispatched: nothing left to do.</summary>
    SeenAndDispatched,
}

public interface IEventStore
{
    Task<EventAddResult> TryAddAsync(CustomerEvent evt, CancellationToken cancellationToken);

    Task MarkDispatchedAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken);

    Task<CustomerEvent?> GetAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken);

    /// <summary>Events accepted before <paramref name="acceptedBefore"/> whose dispatch never completed.</summary>
    IAsyncEnumerable<CustomerEvent> ListUndispatchedAsync(DateTimeOffset acceptedBefore, CancellationToken cancellationToken);
}

public interface IRawPayloadStore
{
    Task SaveAsync(string platform, string shopDomain, string deliveryId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);
}

public interface IProfileStore
{
    Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken);

    /// <summary>Writes if the stored version is still <paramref name="expectedVersion"/> (null: must not exist yet). False on a lost race.</summary>
    Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Every profile, for scheduled entries and simulations over stored customers.</summary>
    IAsyncEnumerable<CustomerProfile> ListAsync(CancellationToken cancellationToken);
}

public interface ISegmentStore
{
    Task<IReadOnlyList<Segment>> ListAsync(CancellationToken cancellationToken);

    Task SaveAsync(Segment segment, CancellationToken cancellationToken);
}

/// <summary>Where each scheduled journey's entries got to, so a schedule fires once per occurrence.</summary>
public interface IScheduleCursor
{
    Task<DateTimeOffset?> GetAsync(string journeyId, CancellationToken cancellationToken);

    Task SetAsync(string journeyId, DateTimeOffset through, CancellationToken cancellationToken);
}

/// <summary>A journey instance and the commands it decided but has not yet carried out (its outbox).</summary>
public sealed record StoredInstance(JourneyInstance Instance, IReadOnlyList<JourneyCommand> Outbox);

public interface IJourneyInstanceStore
{
    /// <summary>The instance in a slot: the journey id, or journey id + business key (<see cref="JourneyInstance.Slot"/>).</summary>
    Task<Versioned<StoredInstance>?> GetAsync(CustomerKey customer, string slot, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces under optimistic concurrency; returns the new version, or null on a lost race.</summary>
    Task<string?> TrySaveAsync(StoredInstance instance, string? expectedVersion, CancellationToken cancellationToken);

    IAsyncEnumerable<JourneyInstance> ListForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

    /// <summary>Active instances of one journey: (version, step) per instance, for impact previews.</summary>
    IAsyncEnumerable<(int Version, string? Step)> ListActivePositionsAsync(string journeyId, CancellationToken cancellationToken);
}

/// <summary>The journeys that take entries now (their published versions) and each journey's status.</summary>
public interface IJourneyCatalog
{
    Task<IReadOnlyList<JourneyDefinition>> ActiveAsync(CancellationToken cancellationToken);

    Task<JourneyStatus?> StatusAsync(string journeyId, CancellationToken cancellationToken);
}

/// <summary>Journey heads (status, draft) and immutable published versions.</summary>
public interface IJourneyDefinitionStore
{
    Task<Versioned<JourneyHead>?> GetHeadAsync(string journeyId, CancellationToken cancellationToken);

    Task<bool> TrySaveHeadAsync(JourneyHead head, string? expectedVersion, CancellationToken cancellationToken);

    Task<IReadOnlyList<JourneyHead>> ListHeadsAsync(CancellationToken cancellationToken);

    /// <summary>Stores a published version; an existing version is never overwritten.</summary>
    Task SaveVersionAsync(JourneyDefinition definition, CancellationToken cancellationToken);

    Task<JourneyDefinition?> GetVersionAsync(string journeyId, int version, CancellationToken cancellationToken);

    Task<IReadOnlyList<JourneyDefinition>> ListVersionsAsync(string journeyId, CancellationToken cancellationToken);
}

public interface IDeliveryLog
{
    /// <summary>Records a queued delivery; a row that already exists under that id is left as it is.</summary>
    Task AddQueuedAsync(DeliveryRecord record, CancellationToken cancellationToken);

    Task<Versioned<DeliveryRecord>?> GetAsync(CustomerKey customer, string deliveryId, CancellationToken cancellationToken);

    /// <summary>Writes the row if it is still at <paramref name="expectedVersion"/>; false if another worker got there first.</summary>
    Task<bool> TryUpdateAsync(DeliveryRecord record, string expectedVersion, CancellationToken cancellationToken);

    Task<IReadOnlyList<DeliveryRecord>> ListForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

public interface IWorkQueue
{
    Task EnqueueEventAsync(JourneyEventMessage message, CancellationToken cancellationToken);

    /// <summary>Schedules <paramref name="message"/> to become visible at its virtual due time (or at the longest delay the queue allows).</summary>
    Task EnqueueTimerAsync(JourneyTimerMessage message, CancellationToken cancellationToken);

    /// <summary>Queues a delivery, visible at once or from <paramref name="notBefore"/> (virtual time) on.</summary>
    Task EnqueueDeliveryAsync(string channel, DeliveryMessage message, DateTimeOffset? notBefore, CancellationToken cancellationToken);
}

/// <summary>Carries a message out on one channel. The delivery id is the idempotency key.</summary>
public interface IChannelSender
{
    Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

public sealed record OutboundMessage(string DeliveryId, string Channel, string Template, Delivery.MessageClass Class, CustomerProfile Recipient);

public sealed record SendOutcome(bool Sent, string? ProviderMessageId, string? FailureReason);
