using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Minted Admin API tokens, one row per shop in the settings table (partition <c>admin-tokens</c>).</summary>
public sealed class TableAdminTokenStore(TableServiceClient service, StorageNames names) : IAdminTokenStore
{
    private const string Partition = "admin-tokens";
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<AdminToken?> GetAsync(Core.Ingest.ShopAccount shop, CancellationToken cancellationToken) =>
        await Tables.GetOrNullAsync(_table, Partition, TableKey.ForShop(shop.Platform, shop.Domain), cancellationToken) is { } row
            && row.GetString("AccessToken") is { } access && row.GetDateTimeOffset("ExpiresAt") is { } expires
            && row.GetString("RefreshToken") is { } refresh && row.GetString("Seed") is { } seed
            ? new AdminToken(access, expires, refresh, seed)
            : null;

    public async Task SetAsync(Core.Ingest.ShopAccount shop, AdminToken token, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity(Partition, TableKey.ForShop(shop.Platform, shop.Domain))
        {
            ["AccessToken"] = token.AccessToken,
            ["ExpiresAt"] = token.ExpiresAt,
            ["RefreshToken"] = token.RefreshToken,
            ["Seed"] = token.Seed,
        }, TableUpdateMode.Replace, cancellationToken);
}
