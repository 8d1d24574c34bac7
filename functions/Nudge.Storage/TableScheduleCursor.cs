using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Schedule cursors in the settings table.</summary>
public sealed class TableScheduleCursor(TableServiceClient service, StorageNames names) : IScheduleCursor
{
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<DateTimeOffset?> GetAsync(string journeyId, CancellationToken cancellationToken) =>
        (await Tables.GetOrNullAsync(_table, "schedule", TableKey.Escape(journeyId), cancellationToken))?.GetDateTimeOffset("Through");

    public async Task SetAsync(string journeyId, DateTimeOffset through, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity("schedule", TableKey.Escape(journeyId)) { ["Through"] = through }, TableUpdateMode.Replace, cancellationToken);
}
