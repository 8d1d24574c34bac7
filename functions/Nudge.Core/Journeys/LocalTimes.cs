using System.Globalization;

namespace Nudge.Core.Journeys;

/// <summary>Next occurrence of a local wall-clock time, in a time zone, optionally on given weekdays.</summary>
public static class LocalTimes
{
    public static readonly IReadOnlyDictionary<string, DayOfWeek> Weekdays = new Dictionary<string, DayOfWeek>
    {
        ["mon"] = DayOfWeek.Monday, ["tue"] = DayOfWeek.Tuesday, ["wed"] = DayOfWeek.Wednesday, ["thu"] = DayOfWeek.Thursday,
        ["fri"] = DayOfWeek.Friday, ["sat"] = DayOfWeek.Saturday, ["sun"] = DayOfWeek.Sunday,
    };

    public static bool TryParseTime(string? text, out TimeOnly time) =>
        TimeOnly.TryParseExact(text, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out time);

    /// <summary>The first instant strictly after <paramref name="at"/> whose local time is <paramref name="localTime"/> on an allowed day.</summary>
    public static DateTimeOffset Next(DateTimeOffset at, string localTime, IReadOnlyList<string> weekdays, TimeZoneInfo zone)
    {
        if (!TryParseTime(localTime, out var time))
        {
            throw new ArgumentException($"'{localTime}' is not HH:mm.", nameof(localTime));
        }

        var allowed = weekdays.Count == 0 ? null : weekdays.Select(d => Weekdays[d]).ToHashSet();
        var localDate = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, zone).DateTime);
        for (var day = 0; day <= 8; day++)
        {
            var date = localDate.AddDays(day);
            if (allowed is not null && !allowed.Contains(date.DayOfWeek))
            {
                continue;
            }

            var local = date.ToDateTime(time, DateTimeKind.Unspecified);
            if (zone.IsInvalidTime(local))
            {
                local = local.AddHours(1); // skipped by a DST jump: take the first valid moment after it
            }

            var candidate = new DateTimeOffset(local, zone.GetUtcOffset(local));
            if (candidate > at)
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("No allowed weekday within eight days.");
    }
}
