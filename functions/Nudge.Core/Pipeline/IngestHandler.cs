using Nudge.Core.Events;

namespace Nudge.Core.Pipeline;

public enum IngestOutcome
{
    Accepted,

    /// <summary>The delivery id was seen before; acknowledged, nothing done twice.</summary>
    Duplicate,
}

/// <summary>
/// Makes an incoming event durable and hands it to the journeys asynchronously, so the source gets its
/// acknowledgement fast. Every step is idempotent by the event id, so a retry after a crash completes the work.
/// </summary>
public sealed class IngestHandler(IEventStore events, IRawPayloadStore rawPayloads, IWorkQueue queue)
{
    public async Task<IngestOutcome> AcceptAsync(CustomerEvent evt, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        await rawPayloads.SaveAsync(evt.Customer.Platform, evt.ShopDomain ?? "unknown", deliveryId, rawBody, cancellationToken);

        var added = await events.TryAddAsync(evt, cancellationToken);
        if (added == EventAddResult.SeenAndDispatched)
        {
            return IngestOutcome.Duplicate;
        }

        await queue.EnqueueEventAsync(new JourneyEventMessage(evt.Customer.Platform, evt.Customer.CustomerId, evt.EventId), cancellationToken);
        await events.MarkDispatchedAsync(evt.Customer, evt.EventId, cancellationToken);
        return added == EventAddResult.Added ? IngestOutcome.Accepted : IngestOutcome.Duplicate;
    }
}
