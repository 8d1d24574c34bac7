using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Testing;

/// <summary>The frequency-cap ledger in memory, for fast handler tests: a lock stands in for the table's ETag.</summary>
public sealed class InMemoryFrequencyCapLedger : IFrequencyCapLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(CustomerKey Customer, string Channel), IReadOnlyList<CapSlot>> _records = [];
    private int _reservations;

    /// <summary>How many reservations were asked for (tests prove the ledger is left alone when no cap applies).</summary>
    public int Reservations => Volatile.Read(ref _reservations);

    public Task<ReachedCap?> ReserveAsync(CapRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reservations);
        lock (_gate)
        {
            var key = (request.Customer, request.Channel);
            var decision = CapDecision.Decide(_records.GetValueOrDefault(key, []), request);
            if (decision.Write is { } slots)
            {
                _records[key] = slots;
            }

            return Task.FromResult(decision.Refused);
        }
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            var theirs = _records.Keys.Where(k => k.Customer == customer).ToList();
            foreach (var key in theirs)
            {
                _records.Remove(key);
            }

            return Task.FromResult(theirs.Count);
        }
    }
}
