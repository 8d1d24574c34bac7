using Azure.Data.Tables;
using Nudge.Core.Imports;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Each import's state and checkpoint, one row per import, written under optimistic concurrency.</summary>
public sealed class TableImportStore(TableServiceClient service, StorageNames names) : IImportStore
{
    private readonly StateRows<ImportState> _rows = new(service.GetTableClient(names.Imports), "import", s => s.Id, s => s.Status);

    public Task<Versioned<ImportState>?> GetAsync(string importId, CancellationToken cancellationToken) => _rows.GetAsync(importId, cancellationToken);

    public Task<string?> TrySaveAsync(ImportState state, string? expectedVersion, CancellationToken cancellationToken) =>
        _rows.TrySaveAsync(state, expectedVersion, cancellationToken);
}
