using System.Globalization;

namespace Nudge.Core.Journeys;

/// <summary>
/// A predicate over customer facts (<c>profile.*</c>, <c>event.*</c>, <c>segment.*</c>): a leaf
/// (<see cref="Fact"/> <see cref="Op"/> <see cref="Value"/>) or a combination (<see cref="All"/>, <see cref="Any"/>, <see cref="Not"/>).
/// </summary>
public sealed record Condition
{
    public string? Fact { get; init; }

    /// <summary>eq, ne, gt, gte, lt, lte, exists, missing, in, contains.</summary>
    public string? Op { get; init; }

    public string? Value { get; init; }
    public IReadOnlyList<string>? Values { get; init; }
    public IReadOnlyList<Condition>? All { get; init; }
    public IReadOnlyList<Condition>? Any { get; init; }
    public Condition? Not { get; init; }

    public static readonly IReadOnlySet<string> Operators = new HashSet<string> { "eq", "ne", "gt", "gte", "lt", "lte", "exists", "missing", "in", "contains" };

    public static Condition Is(string fact, string op, string? value = null) => new() { Fact = fact, Op = op, Value = value };

    /// <summary>Evaluates against facts; bounded by the condition's size. Comparisons are numeric, then by date, then ordinal.</summary>
    public bool Evaluate(IReadOnlyDictionary<string, string> facts)
    {
        if (All is not null)
        {
            return All.All(c => c.Evaluate(facts));
        }

        if (Any is not null)
        {
            return Any.Any(c => c.Evaluate(facts));
        }

        if (Not is not null)
        {
            return !Not.Evaluate(facts);
        }

        var present = facts.TryGetValue(Fact ?? "", out var actual);
        return Op switch
        {
            "exists" => present,
            "missing" => !present,
            "in" => present && (Values ?? []).Contains(actual!),
            "contains" => present && actual!.Contains(Value ?? "", StringComparison.OrdinalIgnoreCase),
            "eq" => present && Compare(actual!, Value) == 0,
            "ne" => !present || Compare(actual!, Value) != 0,
            "gt" => present && Compare(actual!, Value) > 0,
            "gte" => present && Compare(actual!, Value) >= 0,
            "lt" => present && Compare(actual!, Value) < 0,
            "lte" => present && Compare(actual!, Value) <= 0,
            _ => false,
        };
    }

    private static int Compare(string actual, string? expected)
    {
        expected ??= "";
        if (decimal.TryParse(actual, NumberStyles.Number, CultureInfo.InvariantCulture, out var a)
            && decimal.TryParse(expected, NumberStyles.Number, CultureInfo.InvariantCulture, out var b))
        {
            return a.CompareTo(b);
        }

        if (DateTimeOffset.TryParse(actual, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var da)
            && DateTimeOffset.TryParse(expected, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var db))
        {
            return da.CompareTo(db);
        }

        return string.Compare(actual, expected, StringComparison.OrdinalIgnoreCase);
    }
}
