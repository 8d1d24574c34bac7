using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Results;

/// <summary>
/// Counts conversions when a goal event arrives: for each of the customer's instances (running or ended) whose
/// goal it meets, the goal after entry and, where a message of that instance (or a click on one) was recent enough,
/// the conversion with its revenue (<see cref="ResultFacts.OfGoal"/>). A redelivered event counts nothing new:
/// the facts' ids are the instance's.
/// </summary>
public sealed class ConversionRecorder(IDeliveryLog deliveries, IDeliveryEvents deliveryEvents, ResultsRecorder results)
{
    /// <param name="zone">The customer's time zone, in which a goal's filter reads relative times (<c>now-P1D</c>).</param>
    public async Task RecordAsync(IReadOnlyList<JourneyInstance> instances, CustomerEvent goal, IReadOnlyDictionary<string, string> facts, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var arrived = new EventArrived(goal.OccurredAt, goal.Type, goal.EventId, null, facts);
        IReadOnlyList<DeliveryRecord>? sent = null;
        foreach (var instance in instances)
        {
            if (instance.EntryEventId == goal.EventId || Goals.MetBy(instance, arrived with { BusinessKey = CustomerFacts.BusinessKey(instance.Definition, facts) }, facts, zone) is null)
            {
                continue;
            }

            sent ??= await deliveries.ListForCustomerAsync(goal.Customer, cancellationToken);
            var touches = new List<(DeliveryRecord, IReadOnlyList<DateTimeOffset>)>();
            foreach (var delivery in sent.Where(d => d.SentAt is not null && ResultFacts.IsOf(instance, d)))
            {
                touches.Add((delivery, await deliveryEvents.ClickTimesAsync(delivery.DeliveryId, cancellationToken)));
            }

            await results.RecordAsync(ResultFacts.OfGoal(instance, goal, touches), cancellationToken);
        }
    }
}
