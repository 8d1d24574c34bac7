namespace Nudge.Core.Pipeline;

/// <summary>
/// Finishes the dispatch of events whose ingest stopped between the durable write and the enqueue
/// (a crash, a lost connection), so no accepted event is left behind.
/// </summary>
public sealed class DispatchSweepHandler(IEventStore events, IWorkQueue queue, TimeProvider clock)
{
    /// <summary>Ingest finishes within seconds; anything older than this and still undispatched was interrupted.</summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var evt in events.ListUndispatchedAsync(clock.GetUtcNow() - Grace, cancellationToken))
        {
            await queue.EnqueueEventAsync(new JourneyEventMessage(evt.Customer.Platform, evt.Customer.CustomerId, evt.EventId), cancellationToken);
            await events.MarkDispatchedAsync(evt.Customer, evt.EventId, cancellationToken);
            count++;
        }

        return count;
    }
}
