using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Nudge.Core;
using Nudge.Core.Pipeline;
using Nudge.Core.Results;

namespace Nudge.Storage;

/// <summary>
/// Journey results in one table. Each journey has <see cref="Shards"/> partitions (<c>journey|shard</c>, the shard
/// from the fact id), and in each: a marker row per counted fact (<c>m|id</c>, kept: it is what makes a fact count
/// once, however late its copy comes), a pending row per fact not yet folded (<c>p|id</c>, what it counts) and one
/// totals row per day (<c>t|yyyy-MM-dd</c>, the counters as JSON).
/// <list type="bullet">
/// <item>Recording a fact is one entity-group transaction inserting its marker and its pending row: one storage
/// operation, all or nothing; a marker that exists fails the insert, so a copy counts nothing.</item>
/// <item>Folding is one transaction per up to <see cref="FoldBatch"/> pending rows: delete them and replace the day
/// totals they add to, the totals under their ETag. A fold that raced another fails whole (a row already deleted, a
/// changed ETag) and changes nothing.</item>
/// <item>A read adds the pending rows to the totals: each fact is in exactly one of the two at any moment.</item>
/// </list>
/// </summary>
public sealed class TableResultsLedger(TableServiceClient service, StorageNames names) : IResultsLedger
{
    public const int Shards = 8;

    /// <summary>Pending rows per fold transaction: a transaction holds 100 operations, and a few totals rows ride along.</summary>
    public const int FoldBatch = 90;

    private const int ChunkChars = 30_000;
    private readonly TableClient _table = service.GetTableClient(names.Results);

    public async Task<bool> RecordAsync(ResultFact fact, DateOnly day, CancellationToken cancellationToken)
    {
        var partition = PartitionOf(fact.JourneyId, fact.Id);
        var pending = new TableEntity(partition, $"p|{fact.Id}")
        {
            ["Day"] = DayKey(day),
            ["Measure"] = fact.Measure,
            ["Step"] = fact.Step,
            ["Channel"] = fact.Channel ?? "",
            ["Group"] = fact.Group,
            ["Reason"] = fact.Reason ?? "",
            ["Currency"] = fact.Currency ?? "",
            ["Amount"] = fact.Amount.ToString(CultureInfo.InvariantCulture),
        };
        try
        {
            await _table.SubmitTransactionAsync(
                [new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, $"m|{fact.Id}")),
                 new TableTransactionAction(TableTransactionActionType.Add, pending)], cancellationToken);
            return true;
        }
        catch (TableTransactionFailedException e) when (e.Status == Tables.Conflict)
        {
            return false; // counted before
        }
    }

    public async Task<ResultCounters> ReadAsync(string journeyId, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        // A fold moves pending rows into a day's totals in one transaction, but the two reads below are two queries: a
        // fold between them would drop its facts from this answer. It always writes the totals row of the days it
        // folds, so totals whose versions changed meanwhile mean: read the shard again.
        var shards = await Task.WhenAll(Enumerable.Range(0, Shards).Select(shard =>
            OptimisticConcurrency.RetryAsync($"The results of journey '{journeyId}'", async _ =>
            {
                var partition = Partition(journeyId, shard);
                var counters = new ResultCounters();
                var totals = TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {"t|" + DayKey(from)} and RowKey le {"t|" + DayKey(to)}");
                var versions = new Dictionary<string, ETag>(StringComparer.Ordinal);
                await foreach (var row in _table.QueryAsync<TableEntity>(totals, cancellationToken: cancellationToken))
                {
                    counters.Add(ReadTotals(row));
                    versions[row.RowKey] = row.ETag;
                }

                await foreach (var row in _table.QueryAsync<TableEntity>(PendingFilter(partition), cancellationToken: cancellationToken))
                {
                    var (key, value) = ReadPending(row);
                    if (key.Day >= from && key.Day <= to)
                    {
                        counters.Add(key, value);
                    }
                }

                var now = new Dictionary<string, ETag>(StringComparer.Ordinal);
                await foreach (var row in _table.QueryAsync<TableEntity>(totals, cancellationToken: cancellationToken))
                {
                    now[row.RowKey] = row.ETag;
                }

                return now.Count == versions.Count && now.All(v => versions.TryGetValue(v.Key, out var before) && before == v.Value)
                    ? Attempt.Done(counters)
                    : Attempt.Lost;
            }, cancellationToken)));
        var all = new ResultCounters();
        foreach (var shard in shards)
        {
            all.Add(shard);
        }

        return all;
    }

    public async Task<int> FoldAsync(string journeyId, CancellationToken cancellationToken)
    {
        var folded = await Task.WhenAll(Enumerable.Range(0, Shards).Select(shard => FoldPartitionAsync(Partition(journeyId, shard), cancellationToken)));
        return folded.Sum();
    }

    private async Task<int> FoldPartitionAsync(string partition, CancellationToken cancellationToken)
    {
        var pending = new List<TableEntity>();
        await foreach (var row in _table.QueryAsync<TableEntity>(PendingFilter(partition), cancellationToken: cancellationToken))
        {
            pending.Add(row);
        }

        var folded = 0;
        foreach (var chunk in pending.Chunk(FoldBatch))
        {
            var added = new ResultCounters();
            foreach (var row in chunk)
            {
                var (key, value) = ReadPending(row);
                added.Add(key, value);
            }

            var actions = chunk.Select(row => new TableTransactionAction(TableTransactionActionType.Delete, row, ETag.All)).ToList();
            foreach (var day in added.Values.Keys.Select(k => k.Day).Distinct())
            {
                var current = await Tables.GetOrNullAsync(_table, partition, "t|" + DayKey(day), cancellationToken);
                var totals = current is null ? new ResultCounters() : ReadTotals(current);
                totals.Add(added.Between(day, day));
                var row = WriteTotals(partition, day, totals);
                actions.Add(current is null
                    ? new TableTransactionAction(TableTransactionActionType.Add, row)
                    : new TableTransactionAction(TableTransactionActionType.UpdateReplace, row, current.ETag));
            }

            try
            {
                await _table.SubmitTransactionAsync(actions, cancellationToken);
                folded += chunk.Length;
            }
            catch (TableTransactionFailedException e) when (e.Status is Tables.Conflict or Tables.PreconditionFailed or Tables.NotFound)
            {
                return folded; // another fold got there first: nothing of this one was written; the next fold goes on
            }
        }

        return folded;
    }

    /// <summary>
    /// Replaces one shard's totals of one day (a backfill of results kept elsewhere; the benchmark seeds a large
    /// journey's folded state with it). Not for counting: facts are counted through <see cref="RecordAsync"/>.
    /// </summary>
    public async Task ImportDayTotalsAsync(string journeyId, int shard, DateOnly day, ResultCounters totals, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(WriteTotals(Partition(journeyId, shard), day, totals.Between(day, day)), TableUpdateMode.Replace, cancellationToken);

    public static string Partition(string journeyId, int shard) => $"{TableKey.Escape(journeyId)}|{shard}";

    private static string PartitionOf(string journeyId, string factId) => Partition(journeyId, Convert.ToInt32(factId[..1], 16) % Shards);

    private static string PendingFilter(string partition) => TableClient.CreateQueryFilter($"PartitionKey eq {partition} and RowKey ge {"p|"} and RowKey lt {"p}"}");

    private static string DayKey(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static (CounterKey, CounterValue) ReadPending(TableEntity row)
    {
        var amount = decimal.Parse(row.GetString("Amount") ?? "0", CultureInfo.InvariantCulture);
        return (new CounterKey(
                DateOnly.ParseExact(row.GetString("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture), row.GetString("Measure"), row.GetInt32("Step"),
                row.GetString("Channel") ?? "", row.GetString("Group") ?? "", row.GetString("Reason") ?? "", row.GetString("Currency") ?? ""),
            new CounterValue(1, amount, amount * amount));
    }

    /// <summary>One day's counters as stored: JSON in chunks (a string property holds 64 KiB).</summary>
    private sealed record StoredCounter(string M, int? S, string C, string G, string R, string Cu, long N, decimal Sum, decimal Sq);

    private static TableEntity WriteTotals(string partition, DateOnly day, ResultCounters totals)
    {
        var json = JsonSerializer.Serialize(totals.Values.Select(v =>
            new StoredCounter(v.Key.Measure, v.Key.Step, v.Key.Channel, v.Key.Group, v.Key.Reason, v.Key.Currency, v.Value.Count, v.Value.Sum, v.Value.SumOfSquares)), NudgeJson.Options);
        var row = new TableEntity(partition, "t|" + DayKey(day)) { ["Day"] = DayKey(day) };
        var chunks = json.Chunk(ChunkChars).Select(c => new string(c)).ToList();
        row["Chunks"] = chunks.Count;
        for (var i = 0; i < chunks.Count; i++)
        {
            row[$"C{i}"] = chunks[i];
        }

        return row;
    }

    private static ResultCounters ReadTotals(TableEntity row)
    {
        var day = DateOnly.ParseExact(row.GetString("Day"), "yyyy-MM-dd", CultureInfo.InvariantCulture);
        var json = new StringBuilder();
        for (var i = 0; i < (row.GetInt32("Chunks") ?? 0); i++)
        {
            json.Append(row.GetString($"C{i}"));
        }

        var counters = new ResultCounters();
        foreach (var c in JsonSerializer.Deserialize<List<StoredCounter>>(json.ToString(), NudgeJson.Options) ?? [])
        {
            counters.Add(new CounterKey(day, c.M, c.S, c.C, c.G, c.R, c.Cu), new CounterValue(c.N, c.Sum, c.Sq));
        }

        return counters;
    }
}
