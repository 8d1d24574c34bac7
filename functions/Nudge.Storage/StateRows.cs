using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Long-running work's state and checkpoint (an import, an audience run), one row per id in one partition: the state
/// as JSON beside its status, written under optimistic concurrency.
/// </summary>
public sealed class StateRows<T>(TableClient table, string partition, Func<T, string> idOf, Func<T, string> statusOf)
{
    public async Task<Versioned<T>?> GetAsync(string id, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(table, partition, id, cancellationToken);
        return entity is null ? null : new Versioned<T>(Tables.Read<T>(entity, "State"), entity.ETag.ToString());
    }

    public Task<string?> TrySaveAsync(T state, string? expectedVersion, CancellationToken cancellationToken) =>
        Tables.TryWriteAsync(table, new TableEntity(partition, idOf(state)) { ["State"] = Tables.Write(state), ["Status"] = statusOf(state) }, expectedVersion, cancellationToken);
}
