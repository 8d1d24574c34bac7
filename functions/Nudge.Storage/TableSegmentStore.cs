using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Segments in one partition of their own table (few rows, read together).</summary>
public sealed class TableSegmentStore(TableServiceClient service, StorageNames names) : ISegmentStore
{
    private readonly TableClient _table = service.GetTableClient(names.Segments);

    public async Task<IReadOnlyList<Core.Journeys.Segment>> ListAsync(CancellationToken cancellationToken)
    {
        var segments = new List<Core.Journeys.Segment>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"segment"}"), cancellationToken: cancellationToken))
        {
            segments.Add(Tables.Read<Core.Journeys.Segment>(entity, "Segment"));
        }

        return segments;
    }

    public async Task SaveAsync(Core.Journeys.Segment segment, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity("segment", TableKey.Escape(segment.Id)) { ["Segment"] = Tables.Write(segment) }, TableUpdateMode.Replace, cancellationToken);
}
