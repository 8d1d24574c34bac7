using Nudge.Core.Customers;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>A marketing journey slot (<see cref="JourneyInstance.SlotFor"/>) the ledger admitted for a customer, and when.</summary>
public sealed record AdmittedJourney(string Slot, DateTimeOffset At);

/// <summary>A marketing start asking to be admitted under the shop's limit, with the customer's instances as just listed.</summary>
/// <param name="At">The start's time: its instance's StartedAt, so the instance that later shows in the slot is recognised as this admission's.</param>
public sealed record MarketingAdmission(CustomerKey Customer, string Slot, DateTimeOffset At, int Limit, IReadOnlyList<JourneyInstance> Listed);

/// <summary>
/// The limit on concurrent marketing journeys' last word, at the start. Callers count a customer's running instances
/// from their own listing, so two starts made at once for one customer (two events, an audience slice and an event)
/// miss each other; the ledger holds, per customer, the marketing slots it admitted, and admits a new one only while
/// fewer than the limit are active.
/// </summary>
public interface IMarketingJourneyLedger
{
    /// <summary>
    /// Atomically admits the slot unless as many marketing journeys as the limit allows are active. A slot admitted and
    /// still active is admitted again (a redelivered event or a retried start never counts twice).
    /// </summary>
    /// <returns>Null when the start may go ahead; else why it may not (the text <see cref="JourneyInterpreter.RefusedEntry"/> gives).</returns>
    Task<string?> AdmitAsync(MarketingAdmission admission, CancellationToken cancellationToken);

    /// <summary>Erasure: deletes the customer's record (it names the customer); returns how many records there were.</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

/// <summary>What an admission decided on the slots one record holds; every adapter applies it the same way.</summary>
/// <param name="Write">The record to write (pruned of slots no longer active, the slot added); null when nothing changes.</param>
/// <param name="Refused">Why the start may not go ahead, when it may not.</param>
public readonly record struct AdmissionDecision(IReadOnlyList<AdmittedJourney>? Write, string? Refused)
{
    /// <summary>
    /// How long an admitted slot whose instance is not listed yet still counts. Between the admission and the
    /// instance's row there is one conditional insert (and, on a lost race, one read): milliseconds, seconds under the
    /// storage client's own retries. Two minutes covers that many times over, and a start that died after its admission
    /// (its host stopped) keeps a place from other journeys no longer than that (its redelivery is admitted again).
    /// </summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(2);

    public static AdmissionDecision Decide(IReadOnlyList<AdmittedJourney> admitted, MarketingAdmission request)
    {
        var listed = request.Listed.ToDictionary(i => i.Slot, StringComparer.Ordinal);
        var stillActive = admitted.Where(a => IsActive(a, listed, request.At)).ToList();
        // Instances that run without an admission (started before the limit was set) count too.
        var active = stillActive.Select(a => a.Slot)
            .Union(request.Listed.Where(i => !i.IsEnded && i.Definition.IsMarketing).Select(i => i.Slot), StringComparer.Ordinal)
            .ToHashSet(StringComparer.Ordinal);
        if (active.Contains(request.Slot))
        {
            return default;
        }

        if (JourneyInterpreter.RefusedMarketingEntry(request.Limit, active.Count) is { } refused)
        {
            return new AdmissionDecision(null, refused);
        }

        return new AdmissionDecision([.. stillActive, new AdmittedJourney(request.Slot, request.At)], null);
    }

    /// <summary>
    /// An admission's own instance (started at or after it) is active until it ends; until that instance shows (its
    /// slot empty, or still holding the entry before), the admission counts for <see cref="Grace"/>.
    /// </summary>
    private static bool IsActive(AdmittedJourney admission, Dictionary<string, JourneyInstance> listed, DateTimeOffset now) =>
        listed.TryGetValue(admission.Slot, out var instance) && instance.StartedAt >= admission.At
            ? !instance.IsEnded
            : admission.At > now - Grace;
}
