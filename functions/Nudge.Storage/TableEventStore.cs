using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

public sealed class TableEventStore(TableServiceClient service, StorageNames names, TimeProvider clock) : IEventStore
{
    /// <summary>How long an undispatched event counts as being dispatched by the request that added it (ingest takes milliseconds).</summary>
    public static readonly TimeSpan InFlightWindow = TimeSpan.FromSeconds(30);

    private readonly TableClient _table = service.GetTableClient(names.Events);

    public Task<EventAddResult> TryAddAsync(CustomerEvent evt, CancellationToken cancellationToken) =>
        TryAddAsync(evt, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public async Task<EventAddResult> TryAddAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        var entity = Row(evt, rawBody);
        entity["Dispatched"] = false;
        if (await Tables.TryWriteAsync(_table, entity, expectedVersion: null, cancellationToken) is not null)
        {
            return EventAddResult.Added;
        }

        var existing = await Tables.GetOrNullAsync(_table, entity.PartitionKey, entity.RowKey, cancellationToken);
        return existing switch
        {
            _ when existing?.GetBoolean("Dispatched") == true => EventAddResult.SeenAndDispatched,
            _ when existing?.GetString(IntakeBatchColumn) is not null => EventAddResult.SeenAndDispatched, // its batch dispatches it
            _ when existing?.GetDateTimeOffset("AcceptedAt") is { } acceptedAt && clock.GetUtcNow() - acceptedAt < InFlightWindow => EventAddResult.SeenInFlight,
            _ => EventAddResult.SeenNotDispatched,
        };
    }

    /// <summary>
    /// Claimed rows carry the intake batch that claimed them instead of a Dispatched flag: the flag's sweep
    /// (<see cref="ListUndispatchedAsync"/>) never sees them, and a redelivered batch knows its own rows.
    /// </summary>
    public async Task<bool> TryClaimAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, string claim, CancellationToken cancellationToken)
    {
        var entity = Row(evt, rawBody);
        entity[IntakeBatchColumn] = claim;
        if (await Tables.TryWriteAsync(_table, entity, expectedVersion: null, cancellationToken) is not null)
        {
            return true;
        }

        var existing = await Tables.GetOrNullAsync(_table, entity.PartitionKey, entity.RowKey, cancellationToken);
        return existing?.GetString(IntakeBatchColumn) == claim;
    }

    private const string IntakeBatchColumn = "IntakeBatch";

    private TableEntity Row(CustomerEvent evt, ReadOnlyMemory<byte> rawBody)
    {
        var entity = new TableEntity(TableKey.For(evt.Customer), TableKey.Escape(evt.EventId))
        {
            ["Type"] = evt.Type,
            ["OccurredAt"] = evt.OccurredAt,
            ["AcceptedAt"] = clock.GetUtcNow(),
            ["Event"] = Tables.Write(evt),
        };
        Tables.AddOwner(entity, evt.Customer, evt.ShopDomain);
        entity["SubjectId"] = evt.SubjectId;
        if (!rawBody.IsEmpty)
        {
            entity["RawBody"] = BinaryData.FromBytes(rawBody);
        }

        return entity;
    }

    public async Task MarkDispatchedAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(TableKey.For(customer), TableKey.Escape(eventId)) { ["Dispatched"] = true };
        await _table.UpdateEntityAsync(patch, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    public async Task<CustomerEvent?> GetAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), TableKey.Escape(eventId), cancellationToken);
        return entity is null ? null : Tables.Read<CustomerEvent>(entity, "Event");
    }

    public async IAsyncEnumerable<CustomerEvent> ListUndispatchedAsync(DateTimeOffset acceptedBefore, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Dispatched eq {false} and AcceptedAt lt {acceptedBefore}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return Tables.Read<CustomerEvent>(entity, "Event");
        }
    }

    public IAsyncEnumerable<CustomerEvent> ListOfTypesAsync(IReadOnlyCollection<string> types, CancellationToken cancellationToken) =>
        ReadEventsAsync(TypeFilter(types), cancellationToken);

    public IAsyncEnumerable<CustomerEvent> ListForCustomerAsync(CustomerKey customer, IReadOnlyCollection<string> types, CancellationToken cancellationToken) =>
        ReadEventsAsync($"{TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)}")} and ({TypeFilter(types)})", cancellationToken);

    private static string TypeFilter(IReadOnlyCollection<string> types) =>
        string.Join(" or ", types.Select(t => TableClient.CreateQueryFilter($"Type eq {t}")));

    private async IAsyncEnumerable<CustomerEvent> ReadEventsAsync(string filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["Event"], cancellationToken: cancellationToken))
        {
            yield return Tables.Read<CustomerEvent>(entity, "Event");
        }
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);

    public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.CustomersOfShopAsync(_table, platform, shopDomain, cancellationToken);

    public async Task<bool> HasSubjectAsync(CustomerKey customer, string type, string subjectId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)} and Type eq {type} and SubjectId eq {subjectId}");
        await foreach (var _ in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            return true;
        }

        return false;
    }
}
