using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>A delivery holding a slot under its channel's frequency cap, counted at the time its journey decided it (its ScheduledFor).</summary>
public sealed record CapSlot(string DeliveryId, DateTimeOffset At);

/// <summary>A marketing delivery asking for a slot under its channel's frequency cap, with what the cap is judged by.</summary>
/// <param name="At">The time the send counts at: the delivery's ScheduledFor, as the journey counted it.</param>
public sealed record CapRequest(CustomerKey Customer, string Channel, MessageClass Class, string DeliveryId, DateTimeOffset At, CrossJourneyRules Rules, TimeZoneInfo Zone);

/// <summary>
/// The frequency caps' last line, at delivery time. Journeys decide caps from the recent sends each reads on its own,
/// so two decisions made at once for one customer miss each other; the ledger holds, per customer and channel, the
/// deliveries that took a slot, and lets a new one take a slot only while the caps allow it. A slot is kept once
/// taken, even if the send later fails for good: a cap errs on sending less.
/// </summary>
public interface IFrequencyCapLedger
{
    /// <summary>
    /// Atomically takes a slot for the delivery unless the deliveries already holding slots reach a cap. A delivery that
    /// holds a slot is granted it again (a redelivered message or a retried send never counts twice).
    /// </summary>
    /// <returns>Null when the delivery holds its slot; else the cap that refuses it.</returns>
    Task<ReachedCap?> ReserveAsync(CapRequest request, CancellationToken cancellationToken);

    /// <summary>Erasure: deletes the customer's records (they name the customer); returns how many there were.</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

/// <summary>What a reservation decided on the slots one record holds; every adapter applies it the same way.</summary>
/// <param name="Write">The record to write (pruned of slots past the lookback, the delivery added); null when nothing changes.</param>
/// <param name="Refused">The cap reached, when the delivery gets no slot.</param>
public readonly record struct CapDecision(IReadOnlyList<CapSlot>? Write, ReachedCap? Refused)
{
    public static CapDecision Decide(IReadOnlyList<CapSlot> held, CapRequest request)
    {
        if (held.Any(s => s.DeliveryId == request.DeliveryId))
        {
            return default;
        }

        var counted = held.Select(s => new RecentSend(s.At, request.Channel, request.Class));
        if (FrequencyCaps.Reached(request.Rules, request.Channel, request.Class, request.At, request.Zone, counted) is { } reached)
        {
            return new CapDecision(null, reached);
        }

        return new CapDecision([.. held.Where(s => FrequencyCaps.StillCounts(s.At, request.At)), new CapSlot(request.DeliveryId, request.At)], null);
    }
}
