using Nudge.Core.Pipeline;

namespace Nudge.Core.Results;

/// <summary>
/// Where results are counted. Recording a fact is one storage operation and idempotent by the fact's id; the
/// counters a read returns are exact at once (facts not yet folded into the day totals are added in).
/// </summary>
public interface IResultsLedger
{
    /// <summary>Counts the fact on <paramref name="day"/> unless a fact with its id was counted before; true if it counted now.</summary>
    Task<bool> RecordAsync(ResultFact fact, DateOnly day, CancellationToken cancellationToken);

    /// <summary>The journey's counters for the days from <paramref name="from"/> to <paramref name="to"/> (both included).</summary>
    Task<ResultCounters> ReadAsync(string journeyId, DateOnly from, DateOnly to, CancellationToken cancellationToken);

    /// <summary>Folds the journey's recorded facts into its day totals, so reads stay short; returns how many it folded.</summary>
    Task<int> FoldAsync(string journeyId, CancellationToken cancellationToken);
}

/// <summary>Hands facts to the ledger, dated in the shop's time zone (late reports and orders count on the day they happened).</summary>
public sealed class ResultsRecorder(IResultsLedger ledger, PipelineSettings settings, TimeProvider clock)
{
    public DateTimeOffset Now => clock.GetUtcNow();

    public TimeZoneInfo ShopZone => settings.DefaultTimeZone;

    public Task<bool> RecordAsync(ResultFact? fact, CancellationToken cancellationToken) =>
        fact is null ? Task.FromResult(false) : ledger.RecordAsync(fact, ResultCounters.DayOf(fact.At, settings.DefaultTimeZone), cancellationToken);

    public async Task RecordAsync(IEnumerable<ResultFact> facts, CancellationToken cancellationToken)
    {
        foreach (var fact in facts)
        {
            await RecordAsync(fact, cancellationToken);
        }
    }
}
