using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Privacy requests, one row per request under its shop. No customer id, email or phone is ever written here.</summary>
public sealed class TablePrivacyAuditLog(TableServiceClient service, StorageNames names) : IPrivacyAuditLog
{
    private readonly TableClient _table = service.GetTableClient(names.PrivacyAudit);

    public async Task RecordAsync(PrivacyAuditRecord record, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(ShopKey(record.Platform, record.ShopDomain), TableKey.Escape(record.RequestId))
        {
            ["Kind"] = record.Kind.ToString(),
            ["Status"] = record.Status,
            ["Record"] = Tables.Write(record),
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<PrivacyAuditRecord?> GetAsync(string platform, string shopDomain, string requestId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, ShopKey(platform, shopDomain), TableKey.Escape(requestId), cancellationToken);
        return entity is null ? null : Tables.Read<PrivacyAuditRecord>(entity, "Record");
    }

    internal static string ShopKey(string platform, string shopDomain) => TableKey.Escape($"{platform}:{shopDomain.ToLowerInvariant()}");
}

/// <summary>One row per variant under its shop: the latest price by the source's updated time.</summary>
public sealed class TableCatalogStore(TableServiceClient service, StorageNames names) : ICatalogStore
{
    private readonly TableClient _table = service.GetTableClient(names.Catalog);

    public async Task<IReadOnlyList<PriceDrop>> ApplyAsync(CatalogUpdate update, CancellationToken cancellationToken)
    {
        var drops = new List<PriceDrop>();
        var partition = TablePrivacyAuditLog.ShopKey(update.Platform, update.ShopDomain);
        foreach (var variant in update.Variants)
        {
            if (await ApplyAsync(update, variant, partition, cancellationToken) is { } drop)
            {
                drops.Add(drop);
            }
        }

        return drops;
    }

    /// <summary>The variant's price from this update unless a newer one is stored; the drop it makes, if any.</summary>
    private Task<PriceDrop?> ApplyAsync(CatalogUpdate update, VariantPrice variant, string partition, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<PriceDrop?>("The catalog's price", async _ =>
        {
            var current = await Tables.GetOrNullAsync(_table, partition, TableKey.Escape(variant.VariantId), cancellationToken);
            if (current?.GetDateTimeOffset("UpdatedAt") is { } stored && stored >= update.UpdatedAt)
            {
                return Attempt.Done<PriceDrop?>(null); // an older or repeated delivery: the newer price stays
            }

            var entity = new TableEntity(partition, TableKey.Escape(variant.VariantId))
            {
                ["ProductId"] = update.ProductId,
                ["Price"] = variant.Price.ToString(CultureInfo.InvariantCulture),
                ["CompareAtPrice"] = variant.CompareAtPrice?.ToString(CultureInfo.InvariantCulture),
                ["UpdatedAt"] = update.UpdatedAt,
            };
            if (await Tables.TryWriteAsync(_table, entity, current?.ETag.ToString(), cancellationToken) is null)
            {
                return Attempt.Lost;
            }

            return Attempt.Done(current?.GetString("Price") is { } old && decimal.Parse(old, CultureInfo.InvariantCulture) is var oldPrice && variant.Price < oldPrice
                ? new PriceDrop(update.ProductId, variant.VariantId, oldPrice, variant.Price)
                : (PriceDrop?)null);
        }, cancellationToken);
}

/// <summary>Order id → customer, one row per order under its shop (erased with the customer).</summary>
public sealed class TableOrderIndex(TableServiceClient service, StorageNames names) : IOrderIndex
{
    private readonly TableClient _table = service.GetTableClient(names.OrderIndex);

    public async Task RememberAsync(string shopDomain, string orderId, Core.Customers.CustomerKey customer, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TablePrivacyAuditLog.ShopKey(customer.Platform, shopDomain), TableKey.Escape(orderId));
        Tables.AddOwner(entity, customer, shopDomain);
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<Core.Customers.CustomerKey?> FindAsync(string platform, string shopDomain, string orderId, CancellationToken cancellationToken) =>
        await Tables.GetOrNullAsync(_table, TablePrivacyAuditLog.ShopKey(platform, shopDomain), TableKey.Escape(orderId), cancellationToken) is { } row
            ? new Core.Customers.CustomerKey(row.GetString("Platform"), row.GetString("CustomerId"))
            : null;

    public Task<int> DeleteForCustomerAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeleteMatchingAsync(_table, TableClient.CreateQueryFilter($"Platform eq {customer.Platform} and CustomerId eq {customer.CustomerId}"), cancellationToken);

    public Task<int> DeleteForShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TablePrivacyAuditLog.ShopKey(platform, shopDomain), cancellationToken);
}

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
