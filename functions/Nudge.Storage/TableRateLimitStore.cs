using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Shared rate buckets: one row per bucket holding the next free slot, advanced under optimistic concurrency
/// (ETag), so workers on every instance draw from the same schedule. Workers reserve slots in small batches to
/// keep the row's write rate far below its limits.
/// </summary>
public sealed class TableRateLimitStore(TableServiceClient service, StorageNames names) : IRateLimitStore
{
    private const string RowKey = "next";
    private readonly TableClient _table = service.GetTableClient(names.RateLimits);

    public Task<RateReservation> ReserveAsync(string bucket, TimeSpan interval, int count, DateTimeOffset now, TimeSpan maxWait, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync($"Rate bucket '{bucket}'", async _ =>
        {
            var entity = await Tables.GetOrNullAsync(_table, bucket, RowKey, cancellationToken);
            var nextFree = entity?.GetInt64("NextFreeTicks") is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : (DateTimeOffset?)null;
            var (reservation, newNextFree) = Core.Delivery.RateSchedule.Reserve(nextFree, interval, count, now, maxWait);
            if (!reservation.Granted)
            {
                return Attempt.Done(reservation);
            }

            var updated = new TableEntity(bucket, RowKey) { ["NextFreeTicks"] = newNextFree.UtcTicks };
            return await Tables.TryWriteAsync(_table, updated, entity?.ETag.ToString(), cancellationToken) is not null
                ? Attempt.Done(reservation)
                : Attempt.Lost;
        }, cancellationToken);
}
