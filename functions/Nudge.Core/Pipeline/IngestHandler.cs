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
/// acknowledgement fast: three storage operations per event (insert event + raw body, enqueue, mark dispatched; an
/// order placed also files its order in the order index).
/// Every step is idempotent by the event id, so a retry after a crash completes the work.
/// </summary>
public sealed class IngestHandler(IEventStore events, IRawPayloadStore rawPayloads, IWorkQueue queue, IOrderIndex orders)
{
    public async Task<IngestOutcome> AcceptAsync(CustomerEvent evt, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        // The raw body is kept with the event in one write; only a large one goes to the raw payload store first.
        // (A batch message has no body of its own: its event is its record.)
        if (rawBody.Length > IEventStore.InlineRawBodyLimit)
        {
            await rawPayloads.SaveAsync(evt.Customer.Platform, evt.ShopDomain ?? "unknown", evt.Customer.CustomerId, deliveryId, rawBody, cancellationToken);
        }

        var added = rawBody.Length is > 0 and <= IEventStore.InlineRawBodyLimit
            ? await events.TryAddAsync(evt, rawBody, cancellationToken)
            : await events.TryAddAsync(evt, cancellationToken);
        if (added is EventAddResult.SeenAndDispatched or EventAddResult.SeenInFlight)
        {
            return IngestOutcome.Duplicate;
        }

        if (evt.Type == EventTypes.OrderPlaced && evt.ShopDomain is { } shop && evt.SubjectId is { } orderId)
        {
            await orders.RememberAsync(shop, orderId, evt.Customer, cancellationToken); // an upsert: safe to repeat
        }

        await queue.EnqueueEventAsync(new JourneyEventMessage(evt.Customer.Platform, evt.Customer.CustomerId, evt.EventId), cancellationToken);
        await events.MarkDispatchedAsync(evt.Customer, evt.EventId, cancellationToken);
        return added == EventAddResult.Added ? IngestOutcome.Accepted : IngestOutcome.Duplicate;
    }
}

/// <summary>Keeps products' prices (newest wins by the source's time) and reports the price drops they reveal.</summary>
public sealed class CatalogHandler(IRawPayloadStore rawPayloads, ICatalogStore catalog)
{
    public async Task<IReadOnlyList<PriceDrop>> AcceptAsync(Ingest.CatalogUpdate update, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        await rawPayloads.SaveAsync(update.Platform, update.ShopDomain, customerId: null, deliveryId, rawBody, cancellationToken);
        return await catalog.ApplyAsync(update, cancellationToken);
    }
}
