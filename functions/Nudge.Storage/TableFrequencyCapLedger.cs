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
        OptimisticConcurrency.RetryAsync("The customer's frequency-cap slots", async _ =>
        {
            var partition = TableKey.For(request.Customer);
            var row = TableKey.Escape(request.Channel);
            var entity = await Tables.GetOrNullAsync(_table, partition, row, cancellationToken);
            var held = entity is null ? [] : Tables.Read<IReadOnlyList<CapSlot>>(entity, SlotsColumn);
            var decision = CapDecision.Decide(held, request);
            if (decision.Write is not { } slots)
            {
                return Attempt.Done(decision.Refused);
            }

            var updated = new TableEntity(partition, row) { [SlotsColumn] = Tables.Write(slots) };
            return await Tables.TryWriteAsync(_table, updated, entity?.ETag.ToString(), cancellationToken) is not null
                ? Attempt.Done<ReachedCap?>(null)
                : Attempt.Lost;
        }, cancellationToken);

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);
}
