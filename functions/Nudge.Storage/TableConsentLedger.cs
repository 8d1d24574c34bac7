using Azure.Data.Tables;

namespace Nudge.Storage;

/// <summary>The consent ledger: append-only, one partition per customer, row key = time + medium (never overwritten).</summary>
public sealed class TableConsentLedger(TableServiceClient service, StorageNames names) : Core.Consent.IConsentLedger
{
    private readonly TableClient _table = service.GetTableClient(names.Consents);

    public async Task AppendAsync(Core.Consent.ConsentEntry entry, CancellationToken cancellationToken) =>
        await Tables.TryWriteAsync(_table, new TableEntity(TableKey.For(entry.Customer), $"{entry.At.UtcTicks:D19}-{entry.Medium}")
        {
            ["Medium"] = entry.Medium,
            ["Granted"] = entry.Granted,
            ["Source"] = entry.Source,
            ["At"] = entry.At,
            ["ConfirmBy"] = entry.ConfirmBy,
            ["Entry"] = Tables.Write(entry),
        }, expectedVersion: null, cancellationToken);

    public Task<int> DeleteForCustomerAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);

    public async Task<IReadOnlyList<Core.Consent.ConsentEntry>> ListAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken)
    {
        var entries = new List<Core.Consent.ConsentEntry>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)}"), cancellationToken: cancellationToken))
        {
            entries.Add(Tables.Read<Core.Consent.ConsentEntry>(entity, "Entry"));
        }

        return entries;
    }
}
