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

    /// <summary>
    /// Seen moments ago and not dispatched yet: a concurrent delivery of the same event is dispatching it. Leave it
    /// to that one (or, if it crashed, to the dispatch sweep), so the event is never dispatched twice.
    /// </summary>
    SeenInFlight,
}

public interface IEventStore
{
    Task<EventAddResult> TryAddAsync(CustomerEvent evt, CancellationToken cancellationToken);

    /// <summary>Adds the event with its raw body kept in the same row (one write for both), for bodies up to <see cref="InlineRawBodyLimit"/>.</summary>
    Task<EventAddResult> TryAddAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken);

    /// <summary>The largest raw body kept in the event's row; larger ones go to the raw payload store.</summary>
    const int InlineRawBodyLimit = 60 * 1024;

    /// <summary>
    /// Adds the event (and its raw body) as claimed by <paramref name="claim"/>, an intake batch: true when this claim
    /// owns it, now or from an earlier attempt of the same batch; false when another delivery of it was stored first.
    /// A claimed row needs no dispatch mark: the batch that claimed it dispatches it.
    /// </summary>
    Task<bool> TryClaimAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, string claim, CancellationToken cancellationToken);

    Task MarkDispatchedAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken);

    Task<CustomerEvent?> GetAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken);

    /// <summary>Events accepted before <paramref name="acceptedBefore"/> whose dispatch never completed.</summary>
    IAsyncEnumerable<CustomerEvent> ListUndispatchedAsync(DateTimeOffset acceptedBefore, CancellationToken cancellationToken);

    /// <summary>Every stored event of these types, of every customer (the recommendations' rebuild reads them).</summary>
    IAsyncEnumerable<CustomerEvent> ListOfTypesAsync(IReadOnlyCollection<string> types, CancellationToken cancellationToken);

    /// <summary>The customer's stored events of these types, in no particular order.</summary>
    IAsyncEnumerable<CustomerEvent> ListForCustomerAsync(CustomerKey customer, IReadOnlyCollection<string> types, CancellationToken cancellationToken);

    /// <summary>Erases every event of the customer; returns how many there were.</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

    /// <summary>Whether the customer has an event of <paramref name="type"/> about <paramref name="subjectId"/> (reconciliation's gap test).</summary>
    Task<bool> HasSubjectAsync(CustomerKey customer, string type, string subjectId, CancellationToken cancellationToken);

    /// <summary>Customers with events from one shop (for a shop's erasure).</summary>
    IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken);
}

public interface IRawPayloadStore
{
    /// <summary>Keeps the body as received, filed under the customer it is about (so an erasure finds it).</summary>
    Task SaveAsync(string platform, string shopDomain, string? customerId, string deliveryId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken);

    /// <summary>Erases the raw payloads of one customer of a shop, or of the whole shop when <paramref name="customerId"/> is null.</summary>
    Task<int> DeleteAsync(string platform, string shopDomain, string? customerId, CancellationToken cancellationToken);
}

public interface IProfileStore
{
    Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken);

    /// <summary>Writes if the stored version is still <paramref name="expectedVersion"/> (null: must not exist yet). False on a lost race.</summary>
    Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken);

    Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken);

    IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken);

    /// <summary>Every profile, for scheduled entries and simulations over stored customers.</summary>
    IAsyncEnumerable<CustomerProfile> ListAsync(CancellationToken cancellationToken);

    /// <summary>The profiles saved at or after <paramref name="since"/> (the store's own save time), to keep a segment index of another instance current.</summary>
    IAsyncEnumerable<(CustomerProfile Profile, DateTimeOffset SavedAt)> ListChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken);
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

public interface IJourneyInstanceStore
{
    /// <summary>The instance in a slot: the journey id, or journey id + business key (<see cref="JourneyInstance.Slot"/>).</summary>
    Task<Versioned<JourneyInstance>?> GetAsync(CustomerKey customer, string slot, CancellationToken cancellationToken);

    /// <summary>Inserts (no version) or replaces under optimistic concurrency; returns the new version, or null on a lost race.</summary>
    Task<string?> TrySaveAsync(JourneyInstance instance, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>
    /// Replaces the instance's row with its newer state if the row is still there; false if it is gone (the customer
    /// was erased), so a late writer never brings an erased customer back.
    /// </summary>
    Task<bool> ReplaceIfPresentAsync(JourneyInstance instance, CancellationToken cancellationToken);

    IAsyncEnumerable<JourneyInstance> ListForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

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

    /// <summary>
    /// Writes the row if it is still at <paramref name="expectedVersion"/> (null: if there is no row yet); false if
    /// another worker got there first.
    /// </summary>
    Task<bool> TryUpdateAsync(DeliveryRecord record, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Like <see cref="TryUpdateAsync"/>, returning the new version (null on a lost race) for a follow-up write.</summary>
    async Task<string?> TryUpdateVersionedAsync(DeliveryRecord record, string? expectedVersion, CancellationToken cancellationToken) =>
        await TryUpdateAsync(record, expectedVersion, cancellationToken)
            ? (await GetAsync(record.Customer, record.DeliveryId, cancellationToken))?.Version
            : null;

    Task<IReadOnlyList<DeliveryRecord>> ListForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

/// <summary>Privacy requests, made durable at once and carried out asynchronously (a shop's erasure can be long).</summary>
public interface IPrivacyQueue
{
    /// <param name="after">Real time before it is handled (the erasure's follow-up sweep); none: at once.</param>
    Task EnqueuePrivacyAsync(Ingest.PrivacyRequest request, CancellationToken cancellationToken, TimeSpan? after = null);
}

/// <summary>The audit trail of privacy requests. A record names the shop, the kind and the counts, never the customer.</summary>
public interface IPrivacyAuditLog
{
    Task RecordAsync(PrivacyAuditRecord record, CancellationToken cancellationToken);

    Task<PrivacyAuditRecord?> GetAsync(string platform, string shopDomain, string requestId, CancellationToken cancellationToken);
}

public sealed record PrivacyAuditRecord(
    string Platform, string ShopDomain, string RequestId, Ingest.PrivacyRequestKind Kind, string Status,
    DateTimeOffset ReceivedAt, DateTimeOffset? CompletedAt, int Customers, int Events, int Instances, int Deliveries, int RawPayloads);

/// <summary>Which customer placed each order, for events whose payload names only the order (refunds).</summary>
public interface IOrderIndex
{
    Task RememberAsync(string shopDomain, string orderId, CustomerKey customer, CancellationToken cancellationToken);

    Task<CustomerKey?> FindAsync(string platform, string shopDomain, string orderId, CancellationToken cancellationToken);

    /// <summary>Erases the customer's rows in every shop (a customer key is one identity deployment-wide; an events-API source may have filed them).</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);

    Task<int> DeleteForShopAsync(string platform, string shopDomain, CancellationToken cancellationToken);
}

/// <summary>Which customers viewed or carted each product of a shop, so a price drop reaches them.</summary>
public interface IProductInterestIndex
{
    Task RememberAsync(string shopDomain, string productId, CustomerKey customer, CancellationToken cancellationToken);

    IAsyncEnumerable<CustomerKey> ListAsync(string shopDomain, string productId, CancellationToken cancellationToken);

    /// <summary>Erases the customer's rows in every shop (a customer key is one identity deployment-wide; an events-API source may have filed them).</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

/// <summary>Price drops found by a catalog update, fanned out asynchronously to the interested customers.</summary>
public interface IPriceDropQueue
{
    Task EnqueuePriceDropAsync(PriceDropMessage message, CancellationToken cancellationToken);
}

/// <summary>Queue message shape (a wire contract): one variant's drop as of the source's updated time.</summary>
public sealed record PriceDropMessage(string Platform, string ShopDomain, string ProductId, string VariantId, decimal OldPrice, decimal NewPrice, DateTimeOffset UpdatedAt);

/// <summary>Variant prices and product facts per shop, kept newest-wins by the source's updated time.</summary>
public interface ICatalogStore
{
    /// <summary>Stores the prices and facts that are newer than what is held and returns the variants whose price went down.</summary>
    Task<IReadOnlyList<PriceDrop>> ApplyAsync(Ingest.CatalogUpdate update, CancellationToken cancellationToken);

    /// <summary>The facts held for those of the products the shop's catalog knows (an unknown product is absent).</summary>
    Task<IReadOnlyDictionary<string, Ingest.ProductFacts>> GetProductsAsync(string platform, string shopDomain, IReadOnlyCollection<string> productIds, CancellationToken cancellationToken);
}

public sealed record PriceDrop(string ProductId, string VariantId, decimal OldPrice, decimal NewPrice);

public interface IWorkQueue
{
    Task EnqueueEventAsync(JourneyEventMessage message, CancellationToken cancellationToken);

    /// <summary>Hands several events to the journeys in one message.</summary>
    Task EnqueueEventsAsync(JourneyEventsMessage message, CancellationToken cancellationToken);
}

/// <summary>
/// The delivery transport: one queue per channel, over Storage queues or a Service Bus namespace (chosen at
/// deployment). Without <c>notBefore</c> a message is the delivery's first send and carries the delivery id as its
/// message id, so a transport that detects duplicates drops a second copy (a journey's send run again); a send again
/// (a deferral, a retry, a replay) passes the time it is due, and that time names it.
/// </summary>
public interface IDeliveryQueue
{
    /// <summary>Queues a delivery, due at once or from <paramref name="notBefore"/> (virtual time) on.</summary>
    Task EnqueueDeliveryAsync(string channel, DeliveryMessage message, DateTimeOffset? notBefore, CancellationToken cancellationToken);
}

/// <summary>Carries a message out on one channel. The delivery id is the idempotency key.</summary>
public interface IChannelSender
{
    Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken);
}

public sealed record OutboundMessage(string DeliveryId, string Channel, string Template, Delivery.MessageClass Class, CustomerProfile Recipient)
{
    /// <summary>When the delivery was first due: stable across retries (ACS SMS's repeatability-first-sent).</summary>
    public DateTimeOffset ScheduledFor { get; init; }

    /// <summary>1 for the first provider call, then 2, 3... across retries.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>
    /// A previous attempt reached the provider call and never recorded its result (the worker stopped). A sender
    /// whose provider dedupes by the delivery id resends under the same key; one that cannot must not send again
    /// and answers <see cref="SendOutcome.Unconfirmed"/>.
    /// </summary>
    public bool Resumed { get; init; }

    /// <summary>
    /// An earlier attempt failed in a way that may have sent it all the same, through this provider: a retry may only
    /// go to that provider, and only if it dedupes by the delivery id; otherwise it is <see cref="SendOutcome.Unconfirmed"/>.
    /// </summary>
    public string? MaybeSentVia { get; init; }
}

public sealed record SendOutcome(bool Sent, string? ProviderMessageId, string? FailureReason)
{
    /// <summary>Retrying cannot help (invalid address, a message that cannot be rendered): recorded as failed.</summary>
    public bool Permanent { get; init; }

    /// <summary>The provider says the address or number does not exist: it is suppressed for later sends.</summary>
    public bool InvalidRecipient { get; init; }

    /// <summary>Not attempted: try again from this (virtual) time (rate limit reached, every provider's circuit open).</summary>
    public DateTimeOffset? RetryAt { get; init; }

    /// <summary>Whether the message went out cannot be known without sending twice; a provider report settles it.</summary>
    public bool Unconfirmed { get; init; }

    /// <summary>What went out: sms, lms, alimtalk, brand or email (see <see cref="Delivery.MessageKinds"/>).</summary>
    public string? Kind { get; init; }

    public string? Provider { get; init; }

    /// <summary>The attempt failed but may have sent through this provider (see <see cref="OutboundMessage.MaybeSentVia"/>).</summary>
    public string? MaybeSentVia { get; init; }

    /// <summary>What the attempt taught about Kakao: true delivered on Kakao, false fell back (not a friend / no Kakao).</summary>
    public bool? ReachableOnKakao { get; init; }

    public static SendOutcome Failed(string reason) => new(false, null, reason);

    public static SendOutcome Rejected(string reason) => new(false, null, reason) { Permanent = true };

    public static SendOutcome Later(DateTimeOffset at, string reason) => new(false, null, reason) { RetryAt = at };
}

/// <summary>Addresses that must not be contacted again (hard bounce, invalid number, complaint). Keyed by a hash.</summary>
public interface ISuppressionList
{
    /// <summary>Why <paramref name="address"/> is suppressed on <paramref name="medium"/> ("email" or "phone"), or null.</summary>
    Task<string?> FindAsync(string medium, string address, CancellationToken cancellationToken);

    Task AddAsync(string medium, string address, string reason, CancellationToken cancellationToken);
}

/// <summary>Where a delivery goes after its last attempt failed: the channel's poison queue, on either transport.</summary>
public interface IDeliveryDeadLetters
{
    Task AddAsync(string channel, DeliveryMessage message, CancellationToken cancellationToken);
}

/// <summary>A place dead-lettered deliveries wait for the replay endpoint: a poison queue, or a Service Bus dead-letter queue.</summary>
public interface IDeliveryDeadLetterSource
{
    /// <summary>
    /// Hands up to <paramref name="max"/> dead letters of <paramref name="channel"/> to <paramref name="replay"/>, one at a
    /// time, and returns how many. A dead letter leaves only after <paramref name="replay"/> returned (a crash in between
    /// leaves it, to be replayed again: the delivery id keeps that harmless); one that is not a delivery message stays
    /// for a person to look at.
    /// </summary>
    Task<int> ReplayAsync(string channel, int max, Func<DeliveryMessage, CancellationToken, Task> replay, CancellationToken cancellationToken);
}

/// <summary>
/// Dead letters of the pipeline's own queues (intake batches, journey events and timers, price drops, privacy
/// requests): messages a function gave up on after its last attempt. Processing one again is as safe as a redelivery
/// (an intake batch recognizes the rows it claimed by its batch id), so they go back as they are.
/// </summary>
public interface IPipelineDeadLetters
{
    /// <summary>The queues whose dead letters can be replayed.</summary>
    IReadOnlyList<string> Queues { get; }

    /// <summary>
    /// Moves up to <paramref name="max"/> dead letters of <paramref name="queue"/> (one of <see cref="Queues"/>) back
    /// onto it, bodies unchanged, and returns how many it moved. One that cannot be sent again stays.
    /// </summary>
    Task<int> ReplayAsync(string queue, int max, CancellationToken cancellationToken);
}

/// <summary>What a shared rate bucket granted: consecutive send slots from <see cref="FirstSlot"/>, or none (then FirstSlot is when one frees up).</summary>
public sealed record RateReservation(bool Granted, DateTimeOffset FirstSlot, int Count);

/// <summary>Send slots shared by every worker of every instance (a provider's limit is per account, not per worker).</summary>
public interface IRateLimitStore
{
    /// <summary>
    /// Reserves <paramref name="count"/> slots <paramref name="interval"/> apart, the first at or after <paramref name="now"/>,
    /// unless the first would be later than <paramref name="now"/> + <paramref name="maxWait"/> (then nothing is reserved).
    /// </summary>
    Task<RateReservation> ReserveAsync(string bucket, TimeSpan interval, int count, DateTimeOffset now, TimeSpan maxWait, CancellationToken cancellationToken);
}

/// <summary>What happened after a delivery left (provider reports, clicks), and finding a delivery's customer by its id.</summary>
public interface IDeliveryEvents
{
    Task RecordAsync(CustomerKey customer, string deliveryId, string type, string? detail, CancellationToken cancellationToken);

    Task<IReadOnlyList<(string Type, string? Detail)>> ListAsync(string deliveryId, CancellationToken cancellationToken);

    Task<CustomerKey?> FindCustomerAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>The delivery's row, found by its id alone (a provider report names nothing else): the same one query.</summary>
    Task<DeliveryRecord?> FindDeliveryAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>When the delivery's links were clicked (for attributing a conversion to it).</summary>
    Task<IReadOnlyList<DateTimeOffset>> ClickTimesAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>Everything recorded after one delivery (reports, opens, clicks), on erasure; returns how many there were.</summary>
    Task<int> DeleteForDeliveryAsync(string deliveryId, CancellationToken cancellationToken);
}

/// <summary>The intake: where accepted deliveries become durable before they are acknowledged.</summary>
public interface IIntakeQueue
{
    /// <summary>Writes one <see cref="IngestBatchMessage"/> (its JSON, at most <see cref="IngestBatchMessage.MaxChars"/>) in one storage operation.</summary>
    Task AppendAsync(string batchMessageJson, CancellationToken cancellationToken);

    /// <summary>Whether no intake batch is waiting or being processed (an approximate count, as the service gives it).</summary>
    Task<bool> IsDrainedAsync(CancellationToken cancellationToken);
}
