using Nudge.Core.Delivery;

namespace Nudge.Core.Pipeline;

/// <summary>
/// Sends the dead-lettered deliveries of one channel back onto its queue, from every place they wait (the poison
/// queue; with Service Bus also the namespace's dead-letter queue), each with a fresh set of attempts. The delivery
/// id stays the same, so one that did go out after all is not sent twice.
/// </summary>
public sealed class DeliveryReplayHandler(IEnumerable<IDeliveryDeadLetterSource> sources, IDeliveryLog deliveries, IDeliveryQueue queue, TimeProvider clock)
{
    public const string ReplayedReason = "replayed from the dead letters";

    public async Task<int> ReplayAsync(string channel, int max, CancellationToken cancellationToken)
    {
        var replayed = 0;
        foreach (var source in sources)
        {
            if (replayed >= max)
            {
                break;
            }

            replayed += await source.ReplayAsync(channel, max - replayed, (message, ct) => SendAgainAsync(channel, message, ct), cancellationToken);
        }

        return replayed;
    }

    private async Task SendAgainAsync(string channel, DeliveryMessage message, CancellationToken cancellationToken)
    {
        var row = await deliveries.GetAsync(message.Customer, message.DeliveryId, cancellationToken);
        if (row is not null && row.Value.Status == DeliveryStatus.Failed)
        {
            await deliveries.TryUpdateAsync(row.Value with { Status = DeliveryStatus.Queued, Attempts = 0, Reason = ReplayedReason }, row.Version, cancellationToken);
        }

        // Due now, yet a send again: named by that time, so duplicate detection does not take it for the first send.
        await queue.EnqueueDeliveryAsync(channel, message, clock.GetUtcNow(), cancellationToken);
    }
}
