using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Order id → customer, one row per order under its shop (erased with the customer).</summary>
public sealed class TableOrderIndex(TableServiceClient service, StorageNames names) : IOrderIndex
{
    private readonly TableClient _table = service.GetTableClient(names.OrderIndex);

    public async Task RememberAsync(string shopDomain, string orderId, Core.Customers.CustomerKey customer, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKey.ForShop(customer.Platform, shopDomain), TableKey.Escape(orderId));
        Tables.AddOwner(entity, customer, shopDomain);
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<Core.Customers.CustomerKey?> FindAsync(string platform, string shopDomain, string orderId, CancellationToken cancellationToken) =>
        await Tables.GetOrNullAsync(_table, TableKey.ForShop(platform, shopDomain), TableKey.Escape(orderId), cancellationToken) is { } row
            ? new Core.Customers.CustomerKey(row.GetString("Platform"), row.GetString("CustomerId"))
            : null;

    public Task<int> DeleteForCustomerAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeleteMatchingAsync(_table, TableClient.CreateQueryFilter($"Platform eq {customer.Platform} and CustomerId eq {customer.CustomerId}"), cancellationToken);

    public Task<int> DeleteForShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.ForShop(platform, shopDomain), cancellationToken);
}
