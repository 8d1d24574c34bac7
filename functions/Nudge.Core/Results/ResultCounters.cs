namespace Nudge.Core.Results;

/// <summary>One counter's dimensions: a day (in the shop's time zone), a measure and its breakdown.</summary>
public sealed record CounterKey(DateOnly Day, string Measure, int? Step, string Channel, string Group, string Reason, string Currency);

/// <summary>How many, and for amounts their sum and sum of squares (per-customer revenue variance for the holdout's interval).</summary>
public readonly record struct CounterValue(long Count, decimal Sum, decimal SumOfSquares)
{
    public static CounterValue operator +(CounterValue a, CounterValue b) => new(a.Count + b.Count, a.Sum + b.Sum, a.SumOfSquares + b.SumOfSquares);
}

/// <summary>Counters added up from facts; pure, so folding and reading share one arithmetic.</summary>
public sealed class ResultCounters
{
    private readonly Dictionary<CounterKey, CounterValue> _values = [];

    public IReadOnlyDictionary<CounterKey, CounterValue> Values => _values;

    public static CounterKey KeyOf(ResultFact fact, TimeZoneInfo shopZone) => new(
        DayOf(fact.At, shopZone), fact.Measure, fact.Step, fact.Channel ?? "", fact.Group, fact.Reason ?? "", fact.Currency ?? "");

    /// <summary>The calendar day of an instant in the shop's time zone.</summary>
    public static DateOnly DayOf(DateTimeOffset at, TimeZoneInfo shopZone) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, shopZone).DateTime);

    public static CounterValue ValueOf(ResultFact fact) => new(1, fact.Amount, fact.Amount * fact.Amount);

    public void Add(CounterKey key, CounterValue value) =>
        _values[key] = _values.TryGetValue(key, out var held) ? held + value : value;

    public void Add(ResultFact fact, TimeZoneInfo shopZone) => Add(KeyOf(fact, shopZone), ValueOf(fact));

    public void Add(ResultCounters other)
    {
        foreach (var (key, value) in other._values)
        {
            Add(key, value);
        }
    }

    /// <summary>The counters of the days from <paramref name="from"/> to <paramref name="to"/>, both included.</summary>
    public ResultCounters Between(DateOnly from, DateOnly to)
    {
        var kept = new ResultCounters();
        foreach (var (key, value) in _values.Where(v => v.Key.Day >= from && v.Key.Day <= to))
        {
            kept.Add(key, value);
        }

        return kept;
    }

    public CounterValue Total(Func<CounterKey, bool> where)
    {
        var total = default(CounterValue);
        foreach (var (key, value) in _values)
        {
            if (where(key))
            {
                total += value;
            }
        }

        return total;
    }
}
