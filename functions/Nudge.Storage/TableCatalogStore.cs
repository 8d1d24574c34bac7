using System.Globalization;
using Azure.Data.Tables;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Under its shop, one row per variant (the latest price) and one per product (<see cref="ProductFacts"/>), each kept
/// by the source's updated time. A product's key is <c>product:</c> and its escaped id: an escaped variant id never
/// holds a ':', so the two kinds of rows cannot meet.
/// </summary>
public sealed class TableCatalogStore(TableServiceClient service, StorageNames names) : ICatalogStore
{
    private const string ProductKeyPrefix = "product:";

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

        if (update.Facts is { } facts)
        {
            await ApplyFactsAsync(update, facts, partition, cancellationToken);
        }

        return drops;
    }

    public async Task<IReadOnlyDictionary<string, ProductFacts>> GetProductsAsync(string platform, string shopDomain, IReadOnlyCollection<string> productIds, CancellationToken cancellationToken)
    {
        var partition = TableKey.ForShop(platform, shopDomain);
        var found = new Dictionary<string, ProductFacts>(StringComparer.Ordinal);
        foreach (var productId in productIds.Distinct(StringComparer.Ordinal))
        {
            if (await Tables.GetOrNullAsync(_table, partition, ProductKey(productId), cancellationToken) is { } row)
            {
                found[productId] = new ProductFacts(
                    row.GetString("Title"), row.GetString("Url"), row.GetString("ImageUrl"),
                    row.GetString("Price") is { } price ? decimal.Parse(price, CultureInfo.InvariantCulture) : null,
                    row.GetString("Currency"), row.GetBoolean("Published") ?? false, row.GetBoolean("InStock") ?? false);
            }
        }

        return found;
    }

    private static string ProductKey(string productId) => ProductKeyPrefix + TableKey.Escape(productId);

    /// <summary>The variant's price from this update unless a newer one is stored; the drop it makes, if any.</summary>
    private Task<PriceDrop?> ApplyAsync(CatalogUpdate update, VariantPrice variant, string partition, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<PriceDrop?>("The catalog's price", async _ =>
        {
            var current = await Tables.GetOrNullAsync(_table, partition, TableKey.Escape(variant.VariantId), cancellationToken);
            if (IsNewer(current, update))
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

    /// <summary>The product's facts from this update unless newer ones are stored.</summary>
    private Task ApplyFactsAsync(CatalogUpdate update, ProductFacts facts, string partition, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<bool>("The catalog's product", async _ =>
        {
            var current = await Tables.GetOrNullAsync(_table, partition, ProductKey(update.ProductId), cancellationToken);
            if (IsNewer(current, update))
            {
                return Attempt.Done(false);
            }

            var entity = new TableEntity(partition, ProductKey(update.ProductId))
            {
                ["ProductId"] = update.ProductId,
                ["Title"] = facts.Title,
                ["Url"] = facts.Url,
                ["ImageUrl"] = facts.ImageUrl,
                ["Price"] = facts.Price?.ToString(CultureInfo.InvariantCulture),
                ["Currency"] = facts.Currency,
                ["Published"] = facts.Published,
                ["InStock"] = facts.InStock,
                ["UpdatedAt"] = update.UpdatedAt,
            };
            return await Tables.TryWriteAsync(_table, entity, current?.ETag.ToString(), cancellationToken) is null ? Attempt.Lost : Attempt.Done(true);
        }, cancellationToken);

    private static bool IsNewer(TableEntity? stored, CatalogUpdate update) =>
        stored?.GetDateTimeOffset("UpdatedAt") is { } storedAt && storedAt >= update.UpdatedAt;
}
