using Azure.Data.Tables;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;

namespace Nudge.Storage;

/// <summary>Each audience run's state and checkpoint, one row per run, written under optimistic concurrency.</summary>
public sealed class TableAudienceRunStore(TableServiceClient service, StorageNames names) : IAudienceRunStore
{
    private readonly StateRows<AudienceRun> _rows = new(service.GetTableClient(names.AudienceRuns), "audience", r => r.Id, r => r.Status);

    public Task<Versioned<AudienceRun>?> GetAsync(string runId, CancellationToken cancellationToken) => _rows.GetAsync(runId, cancellationToken);

    public Task<string?> TrySaveAsync(AudienceRun run, string? expectedVersion, CancellationToken cancellationToken) => _rows.TrySaveAsync(run, expectedVersion, cancellationToken);
}
