using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Testing;

/// <summary>The marketing journey ledger in memory, for fast handler tests: a lock stands in for the table's ETag.</summary>
public sealed class InMemoryMarketingJourneyLedger : IMarketingJourneyLedger
{
    private readonly Lock _gate = new();
    private readonly Dictionary<CustomerKey, IReadOnlyList<AdmittedJourney>> _records = [];
    private int _admissions;

    /// <summary>How many admissions were asked for (tests prove the ledger is left alone when no limit applies).</summary>
    public int Admissions => Volatile.Read(ref _admissions);

    public Task<string?> AdmitAsync(MarketingAdmission admission, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _admissions);
        lock (_gate)
        {
            var decision = AdmissionDecision.Decide(_records.GetValueOrDefault(admission.Customer, []), admission);
            if (decision.Write is { } admitted)
            {
                _records[admission.Customer] = admitted;
            }

            return Task.FromResult(decision.Refused);
        }
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult(_records.Remove(customer) ? 1 : 0);
        }
    }
}
