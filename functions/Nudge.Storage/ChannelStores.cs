using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Suppressed addresses, one row per medium and address. The row key is a SHA-256 of the normalised address, so
/// the table holds no readable emails or phone numbers and a lookup is a point read.
/// While a medium has no suppressed address at all (a new shop, a benchmark), lookups skip the point read: whether
/// the medium's partition is empty is checked once per <see cref="EmptinessRecheck"/> per process, not per send.
/// </summary>
public sealed class TableSuppressionList(TableServiceClient service, StorageNames names, TimeProvider clock) : ISuppressionList
{
    /// <summary>
    /// How stale "this medium has no suppressions" may be when another instance adds the first one. A send already
    /// waits up to <c>ProviderThrottle.MaxWait</c> (5 s) for its rate slot after this check, so a second here
    /// opens no race that was not there before.
    /// </summary>
    public static readonly TimeSpan EmptinessRecheck = TimeSpan.FromSeconds(1);

    /// <summary>Per table and medium, shared by every instance in the process so an add here is seen at once.</summary>
    private static readonly ConcurrentDictionary<string, Emptiness> EmptinessByMedium = new();

    private readonly TableClient _table = service.GetTableClient(names.Suppressions);

    public async Task<string?> FindAsync(string medium, string address, CancellationToken cancellationToken)
    {
        if (await KnownEmptyAsync(medium, cancellationToken))
        {
            return null;
        }

        return (await Tables.GetOrNullAsync(_table, medium, KeyOf(medium, address), cancellationToken))?.GetString("Reason");
    }

    public async Task AddAsync(string medium, string address, string reason, CancellationToken cancellationToken)
    {
        // Forget "empty" before and after the write, so an emptiness check that overlapped the write cannot outlive it.
        var emptiness = EmptinessOf(medium);
        emptiness.Forget();
        await _table.UpsertEntityAsync(new TableEntity(medium, KeyOf(medium, address))
        {
            ["Reason"] = reason,
            ["SuppressedAt"] = clock.GetUtcNow(),
        }, TableUpdateMode.Replace, cancellationToken);
        emptiness.Forget();
    }

    private Task<bool> KnownEmptyAsync(string medium, CancellationToken cancellationToken) =>
        EmptinessOf(medium).KnownAsync(adds => CheckEmptyAsync(medium, adds, cancellationToken));

    private async Task<bool> CheckEmptyAsync(string medium, long addsWhenStarted, CancellationToken cancellationToken)
    {
        var checkedAt = Environment.TickCount64;
        var empty = true;
        var rows = _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {medium}"), maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken);
        await foreach (var page in rows.AsPages(pageSizeHint: 1))
        {
            if (page.Values.Count > 0 || page.ContinuationToken is null)
            {
                empty = page.Values.Count == 0;
                break;
            }
        }

        EmptinessOf(medium).Remember(empty, checkedAt + (long)EmptinessRecheck.TotalMilliseconds, addsWhenStarted);
        return empty;
    }

    private Emptiness EmptinessOf(string medium) => EmptinessByMedium.GetOrAdd($"{_table.AccountName}/{_table.Name}/{medium}", _ => new Emptiness());

    /// <summary>
    /// Whether a medium had no suppressions when last checked, good until <see cref="Environment.TickCount64"/> ms.
    /// Concurrent lookups share one check (a worker's whole batch would otherwise query at once); adds count up, so
    /// a check that overlapped one cannot leave "empty" standing.
    /// </summary>
    private sealed class Emptiness
    {
        private readonly Lock _gate = new();
        private bool _empty;
        private long _until;
        private long _adds;
        private Task<bool>? _check;

        public Task<bool> KnownAsync(Func<long, Task<bool>> check)
        {
            lock (_gate)
            {
                if (Environment.TickCount64 < _until)
                {
                    return Task.FromResult(_empty);
                }

                if (_check is null || _check.IsCompleted)
                {
                    _check = check(_adds);
                }

                return _check;
            }
        }

        public void Remember(bool empty, long until, long addsWhenChecked)
        {
            lock (_gate)
            {
                if (!empty || _adds == addsWhenChecked)
                {
                    (_empty, _until) = (empty, until);
                }
            }
        }

        public void Forget()
        {
            lock (_gate)
            {
                _adds++;
                (_empty, _until, _check) = (false, 0, null);
            }
        }
    }

    public static string KeyOf(string medium, string address)
    {
        var normalised = medium == SuppressionMedia.Phone
            ? new string(address.Where(char.IsAsciiDigit).ToArray())
            : address.Trim().ToLowerInvariant();
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(normalised)));
    }
}

/// <summary>
/// Dead letters on each delivery queue's "-poison" queue: the same queue the Functions host (and the local trigger
/// driver) poisons a Storage queue message into, and where the delivery handler puts a delivery it gave up on.
/// </summary>
public sealed class StorageDeadLetters(QueueServiceClient service, StorageNames names) : IDeliveryDeadLetters, IDeliveryDeadLetterSource
{
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    public async Task AddAsync(string channel, DeliveryMessage message, CancellationToken cancellationToken) =>
        await Poison(channel).SendMessageAsync(JsonSerializer.Serialize(message, NudgeJson.Options), TimeSpan.Zero, NeverExpire, cancellationToken);

    public Task<int> ReplayAsync(string channel, int max, Func<DeliveryMessage, CancellationToken, Task> replay, CancellationToken cancellationToken) =>
        StoragePoisonQueues.TakeAsync(Poison(channel), max, async (item, ct) =>
        {
            // A body that is not a delivery message stays on the poison queue for a person to look at.
            if (DeliveryMessage.TryParse(item.Body.ToMemory().Span) is not { } message)
            {
                return false;
            }

            await replay(message, ct);
            return true;
        }, cancellationToken);

    private QueueClient Poison(string channel) => service.GetQueueClient(StorageNames.PoisonOf(names.DeliveryQueue(channel)));
}

/// <summary>
/// Shared rate buckets: one row per bucket holding the next free slot, advanced under optimistic concurrency
/// (ETag), so workers on every instance draw from the same schedule. Workers reserve slots in small batches to
/// keep the row's write rate far below its limits.
/// </summary>
public sealed class TableRateLimitStore(TableServiceClient service, StorageNames names) : IRateLimitStore
{
    private const string RowKey = "next";
    private const int MaxAttempts = 50;
    private readonly TableClient _table = service.GetTableClient(names.RateLimits);

    public async Task<RateReservation> ReserveAsync(string bucket, TimeSpan interval, int count, DateTimeOffset now, TimeSpan maxWait, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var entity = await Tables.GetOrNullAsync(_table, bucket, RowKey, cancellationToken);
            var nextFree = entity?.GetInt64("NextFreeTicks") is { } ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : (DateTimeOffset?)null;
            var (reservation, newNextFree) = Core.Delivery.RateSchedule.Reserve(nextFree, interval, count, now, maxWait);
            if (!reservation.Granted)
            {
                return reservation;
            }

            var updated = new TableEntity(bucket, RowKey) { ["NextFreeTicks"] = newNextFree.UtcTicks };
            if (await Tables.TryWriteAsync(_table, updated, entity?.ETag.ToString(), cancellationToken) is not null)
            {
                return reservation;
            }

            await Task.Delay(Random.Shared.Next(1, 5 + attempt * 2), cancellationToken);
        }

        throw new ConcurrencyException($"Rate bucket '{bucket}' stayed contended for {MaxAttempts} attempts.");
    }
}

/// <summary>The consent ledger: append-only, one partition per customer, row key = time + medium (never overwritten).</summary>
public sealed class TableConsentLedger(TableServiceClient service, StorageNames names) : Core.Consent.IConsentLedger
{
    private readonly TableClient _table = service.GetTableClient(names.Consents);

    public async Task AppendAsync(Core.Consent.ConsentEntry entry, CancellationToken cancellationToken) =>
        await Tables.TryWriteAsync(_table, new TableEntity(TableKey.For(entry.Customer), $"{entry.At.UtcTicks:D19}-{entry.Medium}")
        {
            ["Medium"] = entry.Medium,
            ["Granted"] = entry.Granted,
            ["Source"] = entry.Source,
            ["At"] = entry.At,
            ["ConfirmBy"] = entry.ConfirmBy,
            ["Entry"] = Tables.Write(entry),
        }, expectedVersion: null, cancellationToken);

    public Task<int> DeleteForCustomerAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);

    public async Task<IReadOnlyList<Core.Consent.ConsentEntry>> ListAsync(Core.Customers.CustomerKey customer, CancellationToken cancellationToken)
    {
        var entries = new List<Core.Consent.ConsentEntry>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)}"), cancellationToken: cancellationToken))
        {
            entries.Add(Tables.Read<Core.Consent.ConsentEntry>(entity, "Entry"));
        }

        return entries;
    }
}

/// <summary>Provider reports, clicks and other events after a delivery, and the lookup from a delivery id to its row.</summary>
public sealed class TableDeliveryEvents(TableServiceClient service, StorageNames names, TimeProvider clock) : IDeliveryEvents
{
    private readonly TableClient _events = service.GetTableClient(names.DeliveryEvents);
    private readonly TableClient _deliveries = service.GetTableClient(names.Deliveries);

    public async Task RecordAsync(Core.Customers.CustomerKey customer, string deliveryId, string type, string? detail, CancellationToken cancellationToken) =>
        await _events.AddEntityAsync(new TableEntity(deliveryId, $"{clock.GetUtcNow().UtcTicks:D19}-{type}-{Guid.NewGuid():N}")
        {
            ["Platform"] = customer.Platform,
            ["CustomerId"] = customer.CustomerId,
            ["Type"] = type,
            ["Detail"] = detail,
        }, cancellationToken);

    public async Task<IReadOnlyList<(string Type, string? Detail)>> ListAsync(string deliveryId, CancellationToken cancellationToken)
    {
        var list = new List<(string, string?)>();
        await foreach (var e in _events.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {deliveryId}"), cancellationToken: cancellationToken))
        {
            list.Add((e.GetString("Type"), e.GetString("Detail")));
        }

        return list;
    }

    public Task<int> DeleteForDeliveryAsync(string deliveryId, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_events, deliveryId, cancellationToken);

    public async Task<Core.Customers.CustomerKey?> FindCustomerAsync(string deliveryId, CancellationToken cancellationToken)
    {
        // Provider reports carry only our delivery id: one query by row key across partitions.
        await foreach (var e in _deliveries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {deliveryId}"), select: ["Platform", "CustomerId"], cancellationToken: cancellationToken))
        {
            return new Core.Customers.CustomerKey(e.GetString("Platform"), e.GetString("CustomerId"));
        }

        return null;
    }
}
