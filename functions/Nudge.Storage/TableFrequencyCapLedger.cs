using Azure.Data.Tables;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Frequency-cap slots: one partition per customer, one row per channel holding the deliveries that took a slot (a
/// week and a day of them at most), rewritten under optimistic concurrency (ETag) so concurrent workers take slots
/// one after another.
/// </summary>
public sealed class TableFrequencyCapLedger(TableServiceClient service, StorageNames names) : IFrequencyCapLedger
{
    private const string SlotsColumn = "Slots";
    private readonly TableClient _table = service.GetTableClient(names.FrequencyCaps);

    public Task<ReachedCap?> ReserveAsync(CapRequest request, CancellationToken cancellationToken) =>
        Tables.DecideOnListRowAsync<CapSlot, ReachedCap?>(
            _table, TableKey.For(request.Customer), TableKey.Escape(request.Channel), SlotsColumn, "The customer's frequency-cap slots",
            held =>
            {
                var (write, refused) = CapDecision.Decide(held, request);
                return (write, refused);
            }, cancellationToken);

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);
}
