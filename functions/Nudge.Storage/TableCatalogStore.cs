using System.Globalization;
using Azure.Data.Tables;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>One row per variant under its shop: the latest price by the source's updated time.</summary>
public sealed class TableCatalogStore(TableServiceClient service, StorageNames names) : ICatalogStore
{
    private readonly TableClient _table = service.GetTableClient(names.Catalog);

    public async Task<IReadOnlyList<PriceDrop>> ApplyAsync(CatalogUpdate update, CancellationToken cancellationToken)
    {
        var drops = new List<PriceDrop>();
        var partition = TableKey.ForShop(update.Platform, update.ShopDomain);
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
