using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Shared table plumbing: conditional writes that report a lost race instead of throwing.</summary>
internal static class Tables
{
    public const int Conflict = 409;
    public const int PreconditionFailed = 412;
    public const int NotFound = 404;

    /// <summary>Insert when <paramref name="expectedVersion"/> is null, else replace if the ETag still matches. Null on a lost race.</summary>
    public static async Task<string?> TryWriteAsync(TableClient table, TableEntity entity, string? expectedVersion, CancellationToken cancellationToken)
    {
        try
        {
            var response = expectedVersion is null
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, new ETag(expectedVersion), TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag?.ToString();
        }
        catch (RequestFailedException e) when (e.Status is Conflict or PreconditionFailed)
        {
            return null;
        }
    }

    public static async Task<TableEntity?> GetOrNullAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    /// <summary>
    /// Read-decide-write of one row holding a JSON list, under its ETag with the one retry policy: <paramref name="decide"/>
    /// gets the list as stored (empty when there is no row) and gives the list to write (null: nothing changes) and its
    /// answer, returned once that write held.
    /// </summary>
    /// <param name="what">What could not be written, for the error: no personal data.</param>
    public static Task<TAnswer> DecideOnListRowAsync<TItem, TAnswer>(
        TableClient table, string partitionKey, string rowKey, string column, string what,
        Func<IReadOnlyList<TItem>, (IReadOnlyList<TItem>? Write, TAnswer Answer)> decide, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync(what, async _ =>
        {
            var entity = await GetOrNullAsync(table, partitionKey, rowKey, cancellationToken);
            var (write, answer) = decide(entity is null ? [] : Read<IReadOnlyList<TItem>>(entity, column));
            if (write is null)
            {
                return Attempt.Done(answer);
            }

            var updated = new TableEntity(partitionKey, rowKey) { [column] = Write(write) };
            return await TryWriteAsync(table, updated, entity?.ETag.ToString(), cancellationToken) is not null ? Attempt.Done(answer) : Attempt.Lost;
        }, cancellationToken);

    public static T Read<T>(TableEntity entity, string property) =>
        JsonSerializer.Deserialize<T>(entity.GetString(property), NudgeJson.Options)
        ?? throw new InvalidDataException($"Entity {entity.PartitionKey}/{entity.RowKey} has no '{property}'.");

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, NudgeJson.Options);

    /// <summary>Deletes every entity of one partition in transactions of up to 100; returns how many there were.</summary>
    public static async Task<int> DeletePartitionAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}");
        var keys = new List<TableEntity>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(entity);
        }

        foreach (var chunk in keys.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All)), cancellationToken);
        }

        return keys.Count;
    }

    /// <summary>Deletes every entity the filter matches, one by one (they may span partitions); returns how many.</summary>
    public static async Task<int> DeleteMatchingAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            count++;
        }

        return count;
    }

    /// <summary>The customers named by rows whose Platform and ShopDomain columns match.</summary>
    public static async IAsyncEnumerable<CustomerKey> CustomersOfShopAsync(TableClient table, string platform, string shopDomain, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Platform eq {platform} and ShopDomain eq {shopDomain}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["Platform", "CustomerId"], cancellationToken: cancellationToken))
        {
            yield return new CustomerKey(entity.GetString("Platform"), entity.GetString("CustomerId"));
        }
    }

    /// <summary>The columns that let an erasure find a customer's rows by shop.</summary>
    public static void AddOwner(TableEntity entity, CustomerKey customer, string? shopDomain)
    {
        entity["Platform"] = customer.Platform;
        entity["CustomerId"] = customer.CustomerId;
        entity["ShopDomain"] = shopDomain;
    }
}
