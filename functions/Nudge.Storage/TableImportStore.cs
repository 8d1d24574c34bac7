using Azure.Data.Tables;
using Nudge.Core.Imports;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Each import's state and checkpoint, one row per import, written under optimistic concurrency.</summary>
public sealed class TableImportStore(TableServiceClient service, StorageNames names) : IImportStore
{
    private const string Partition = "import";
    private readonly TableClient _table = service.GetTableClient(names.Imports);

    public async Task<Versioned<ImportState>?> GetAsync(string importId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, Partition, importId, cancellationToken);
        return entity is null ? null : new Versioned<ImportState>(Tables.Read<ImportState>(entity, "State"), entity.ETag.ToString());
    }

    public Task<string?> TrySaveAsync(ImportState state, string? expectedVersion, CancellationToken cancellationToken) =>
        Tables.TryWriteAsync(_table, new TableEntity(Partition, state.Id) { ["State"] = Tables.Write(state), ["Status"] = state.Status }, expectedVersion, cancellationToken);
}
