using System.Globalization;
using System.Text.RegularExpressions;

namespace Nudge.Core.Journeys;

/// <summary>
/// The moment a condition is evaluated at and the time zone its calendar days are counted in (the customer's, else
/// the shop's). Passed in by the caller: conditions never read a clock, so evaluation stays a function of its inputs.
/// </summary>
public readonly record struct EvaluationTime(DateTimeOffset Now, TimeZoneInfo Zone)
{
    public static EvaluationTime Utc(DateTimeOffset now) => new(now, TimeZoneInfo.Utc);
}

/// <summary>
/// A condition value relative to evaluation time: <c>now</c>, or <c>now</c>, a sign and an ISO 8601 duration
/// (<c>now-P14D</c>, <c>now+PT2H</c>, <c>now-P1Y2M</c>). Years, months, weeks and days are calendar units counted on
/// the local calendar of the evaluation's time zone; hours, minutes and seconds are elapsed time. A duration of
/// calendar units only resolves to the start of that local day, so "more than 90 days ago" changes at local midnight
/// rather than by the second: <c>lastLoginAt lt now-P90D</c> holds for a last login on a day before the day 90 days ago.
/// </summary>
public sealed partial record RelativeTime(int Sign, int Years, int Months, int Days, TimeSpan Time)
{
    private const string Prefix = "now";

    /// <summary>Whether the value is meant as a relative time ("now", or "now" and a sign), well formed or not.</summary>
    public static bool IsRelative(string? value) =>
        value is not null && value.StartsWith(Prefix, StringComparison.Ordinal) && (value.Length == Prefix.Length || value[Prefix.Length] is '+' or '-');

    public static bool TryParse(string? value, out RelativeTime relative)
    {
        relative = Now;
        if (!IsRelative(value))
        {
            return false;
        }

        var text = value![Prefix.Length..];
        if (text.Length == 0)
        {
            return true;
        }

        var match = Duration().Match(text);
        if (!match.Success || (match.Groups["date"].Length == 0 && match.Groups["time"].Length == 0) || text.EndsWith('T'))
        {
            return false;
        }

        if (!TryNumber(match, "y", out var years) || !TryNumber(match, "mo", out var months) || !TryNumber(match, "w", out var weeks)
            || !TryNumber(match, "d", out var days) || !TryNumber(match, "h", out var hours) || !TryNumber(match, "mi", out var minutes)
            || !TryNumber(match, "s", out var seconds))
        {
            return false;
        }

        relative = new RelativeTime(match.Groups["sign"].Value == "-" ? -1 : 1, years, months, weeks * 7 + days,
            new TimeSpan(hours, minutes, seconds));
        return true;
    }

    public static RelativeTime Now { get; } = new(1, 0, 0, 0, TimeSpan.Zero);

    private bool CalendarOnly => Time == TimeSpan.Zero && (Years != 0 || Months != 0 || Days != 0);

    /// <summary>The moment this value names at <paramref name="at"/>.</summary>
    public DateTimeOffset Resolve(EvaluationTime at)
    {
        try
        {
            return ResolveWithin(at);
        }
        catch (ArgumentOutOfRangeException)
        {
            return Sign < 0 ? DateTimeOffset.MinValue : DateTimeOffset.MaxValue; // beyond the calendar: earlier or later than any date
        }
    }

    private DateTimeOffset ResolveWithin(EvaluationTime at)
    {
        var local = TimeZoneInfo.ConvertTime(at.Now, at.Zone);
        var wall = local.DateTime.AddYears(Sign * Years).AddMonths(Sign * Months).AddDays(Sign * Days);
        if (CalendarOnly)
        {
            wall = wall.Date;
        }

        var moment = new DateTimeOffset(DateTime.SpecifyKind(wall, DateTimeKind.Unspecified), OffsetAt(wall, at.Zone));
        return moment + Sign * Time;
    }

    /// <summary>The zone's offset at a local wall time; a time skipped by a DST change takes the offset before it.</summary>
    private static TimeSpan OffsetAt(DateTime wall, TimeZoneInfo zone)
    {
        if (zone.IsInvalidTime(wall))
        {
            return zone.GetUtcOffset(wall.AddHours(-1));
        }

        return zone.IsAmbiguousTime(wall) ? zone.GetAmbiguousTimeOffsets(wall).Max() : zone.GetUtcOffset(wall);
    }

    private static bool TryNumber(Match match, string group, out int number)
    {
        number = 0;
        var text = match.Groups[group].Value;
        return text.Length == 0 || (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out number) && number <= 100_000);
    }

    [GeneratedRegex(@"^(?<sign>[+-])P(?<date>(?:(?<y>\d{1,6})Y)?(?:(?<mo>\d{1,6})M)?(?:(?<w>\d{1,6})W)?(?:(?<d>\d{1,6})D)?)(?:T(?<time>(?:(?<h>\d{1,6})H)?(?:(?<mi>\d{1,6})M)?(?:(?<s>\d{1,6})S)?))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Duration();
}
