using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Product → interested customers: one row per (product, customer) under the shop's product partition.</summary>
public sealed class TableProductInterestIndex(TableServiceClient service, StorageNames names) : IProductInterestIndex
{
    private readonly TableClient _table = service.GetTableClient(names.ProductInterest);

    public async Task RememberAsync(string shopDomain, string productId, Core.Customers.CustomerKey customer, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(Partition(shopDomain, productId), TableKey.For(customer));
        Tables.AddOwner(entity, customer, shopDomain);
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async IAsyncEnumerable<Core.Customers.CustomerKey> ListAsync(string shopDomain, string productId, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {Partition(shopDomain, productId)}");
        await foreach (var row in _table.QueryAsync<TableEntity>(filter, select: ["Platform", "CustomerId"], cancellationToken: cancellationToken))
        {
            yield return new Core.Customers.CustomerKey(row.GetString("Platform"), row.GetString("CustomerId"));
        }
    }

    public Task<int> DeleteForCustomerAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeleteMatchingAsync(_table, TableClient.CreateQueryFilter($"RowKey eq {TableKey.For(customer)}"), cancellationToken);

    private static string Partition(string shopDomain, string productId) => TableKey.Escape($"{shopDomain.ToLowerInvariant()}:{productId}");
}
