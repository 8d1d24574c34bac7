using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Azure.Data.Tables;
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
