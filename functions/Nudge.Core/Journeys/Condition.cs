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

    /// <summary>A number, a date, text, or a moment relative to evaluation time (<c>now-P14D</c>, <see cref="RelativeTime"/>).</summary>
    public string? Value { get; init; }
    public IReadOnlyList<string>? Values { get; init; }
    public IReadOnlyList<Condition>? All { get; init; }
    public IReadOnlyList<Condition>? Any { get; init; }
    public Condition? Not { get; init; }

    public static readonly IReadOnlySet<string> Operators = new HashSet<string> { "eq", "ne", "gt", "gte", "lt", "lte", "exists", "missing", "in", "contains" };

    public static Condition Is(string fact, string op, string? value = null) => new() { Fact = fact, Op = op, Value = value };

    /// <summary>
    /// Evaluates against facts at a given moment (for relative values); bounded by the condition's size. Comparisons
    /// are numeric, then by date, then ordinal; a relative value compares only with a date, so a missing or unreadable
    /// date never matches <c>lt</c>/<c>gt</c>.
    /// </summary>
    public bool Evaluate(IReadOnlyDictionary<string, string> facts, EvaluationTime at)
    {
        if (All is not null)
        {
            return All.All(c => c.Evaluate(facts, at));
        }

        if (Any is not null)
        {
            return Any.Any(c => c.Evaluate(facts, at));
        }

        if (Not is not null)
        {
            return !Not.Evaluate(facts, at);
        }

        var present = facts.TryGetValue(Fact ?? "", out var actual);
        return Op switch
        {
            "exists" => present,
            "missing" => !present,
            "in" => present && (Values ?? []).Contains(actual!),
            "contains" => present && actual!.Contains(Value ?? "", StringComparison.OrdinalIgnoreCase),
            "eq" => present && Compare(actual!, Value, at) == 0,
            "ne" => !present || Compare(actual!, Value, at) != 0,
            "gt" => present && Compare(actual!, Value, at) > 0,
            "gte" => present && Compare(actual!, Value, at) >= 0,
            "lt" => present && Compare(actual!, Value, at) < 0,
            "lte" => present && Compare(actual!, Value, at) <= 0,
            _ => false,
        };
    }

    /// <summary>The order of the fact against the value; null when they cannot be compared (a relative value against no date).</summary>
    private static int? Compare(string actual, string? expected, EvaluationTime at)
    {
        if (RelativeTime.IsRelative(expected))
        {
            return RelativeTime.TryParse(expected, out var relative) && TryDate(actual, out var date) ? date.CompareTo(relative.Resolve(at)) : null;
        }

        expected ??= "";
        if (decimal.TryParse(actual, NumberStyles.Number, CultureInfo.InvariantCulture, out var a)
            && decimal.TryParse(expected, NumberStyles.Number, CultureInfo.InvariantCulture, out var b))
        {
            return a.CompareTo(b);
        }

        if (TryDate(actual, out var da) && TryDate(expected, out var db))
        {
            return da.CompareTo(db);
        }

        return string.Compare(actual, expected, StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryDate(string text, out DateTimeOffset date) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out date);
}
