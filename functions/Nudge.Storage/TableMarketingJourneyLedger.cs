using Azure.Data.Tables;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Marketing journey admissions: one row per customer holding the slots admitted and still active (at most the limit),
/// rewritten under optimistic concurrency (ETag) so concurrent starts are admitted one after another.
/// </summary>
public sealed class TableMarketingJourneyLedger(TableServiceClient service, StorageNames names) : IMarketingJourneyLedger
{
    private const string RowKey = "admitted";
    private const string SlotsColumn = "Slots";
    private readonly TableClient _table = service.GetTableClient(names.MarketingAdmissions);

    public Task<string?> AdmitAsync(MarketingAdmission admission, CancellationToken cancellationToken) =>
        Tables.DecideOnListRowAsync<AdmittedJourney, string?>(
            _table, TableKey.For(admission.Customer), RowKey, SlotsColumn, "The customer's marketing journey admissions",
            admitted =>
            {
                var (write, refused) = AdmissionDecision.Decide(admitted, admission);
                return (write, refused);
            }, cancellationToken);

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);
}
