using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Each shop's reconciliation high-water mark, in the settings table.</summary>
public sealed class TableReconcileCursorStore(TableServiceClient service, StorageNames names) : IReconcileCursorStore
{
    private const string Partition = "reconcile";
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<DateTimeOffset?> GetAsync(Core.Ingest.ShopAccount shop, CancellationToken cancellationToken) =>
        (await Tables.GetOrNullAsync(_table, Partition, TableKey.ForShop(shop.Platform, shop.Domain), cancellationToken))?.GetDateTimeOffset("ReachedUntil");

    public async Task SetAsync(Core.Ingest.ShopAccount shop, DateTimeOffset reachedUntil, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity(Partition, TableKey.ForShop(shop.Platform, shop.Domain)) { ["ReachedUntil"] = reachedUntil }, TableUpdateMode.Replace, cancellationToken);
}
