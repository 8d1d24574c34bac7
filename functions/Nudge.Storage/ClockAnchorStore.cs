using Azure.Data.Tables;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;

namespace Nudge.Storage;

/// <summary>Persists the virtual clock's anchor so virtual time continues, never restarts, when the app restarts.</summary>
public sealed class ClockAnchorStore(TableServiceClient service, StorageNames names)
{
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public Task<ClockAnchor> ContinueAsync(DateTimeOffset realNow, double speed, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync("The clock anchor", async _ =>
        {
            var entity = await Tables.GetOrNullAsync(_table, "clock", "anchor", cancellationToken);
            var stored = entity is null
                ? null
                : new ClockAnchor(entity.GetDateTimeOffset("RealAt")!.Value, entity.GetDateTimeOffset("VirtualAt")!.Value, entity.GetDouble("Speed")!.Value);
            var anchor = ClockAnchor.Continue(stored, realNow, speed);
            if (anchor == stored)
            {
                return Attempt.Done(anchor);
            }

            var updated = new TableEntity("clock", "anchor")
            {
                ["RealAt"] = anchor.RealAt,
                ["VirtualAt"] = anchor.VirtualAtAnchor,
                ["Speed"] = anchor.Speed,
            };
            return await Tables.TryWriteAsync(_table, updated, entity?.ETag.ToString(), cancellationToken) is not null
                ? Attempt.Done(anchor)
                : Attempt.Lost;
        }, cancellationToken);
}
