using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

public sealed class TableProfileStore(TableServiceClient service, StorageNames names) : IProfileStore
{
    private const string RowKey = "profile";
    private readonly TableClient _table = service.GetTableClient(names.Profiles);

    public async Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), RowKey, cancellationToken);
        return entity is null ? null : new Versioned<CustomerProfile>(Tables.Read<CustomerProfile>(entity, "Profile"), entity.ETag.ToString());
    }

    public async Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKey.For(profile.Key), RowKey)
        {
            ["Profile"] = Tables.Write(profile),
            ["HasOrdered"] = profile.HasOrdered,
        };
        Tables.AddOwner(entity, profile.Key, profile.ShopDomain);
        return await Tables.TryWriteAsync(_table, entity, expectedVersion, cancellationToken) is not null;
    }

    public async Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var response = await _table.DeleteEntityAsync(TableKey.For(customer), RowKey, ETag.All, cancellationToken);
        return response.Status != Tables.NotFound;
    }

    public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.CustomersOfShopAsync(_table, platform, shopDomain, cancellationToken);

    /// <summary>
    /// By the entity's Timestamp (set by the service on every write). Tables index only the keys, so the service scans
    /// for it, but only the changed rows come back over the wire.
    /// </summary>
    public async IAsyncEnumerable<(CustomerProfile Profile, DateTimeOffset SavedAt)> ListChangedSinceAsync(DateTimeOffset since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RowKey} and Timestamp ge {since}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["Profile", "Timestamp"], cancellationToken: cancellationToken))
        {
            yield return (Tables.Read<CustomerProfile>(entity, "Profile"), entity.Timestamp ?? since);
        }
    }

    public async IAsyncEnumerable<CustomerProfile> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RowKey}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["Profile"], cancellationToken: cancellationToken))
        {
            yield return Tables.Read<CustomerProfile>(entity, "Profile");
        }
    }
}
