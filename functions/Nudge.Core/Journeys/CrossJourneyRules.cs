using System.Text.Json.Serialization;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>At most this many non-transactional messages on one channel per local day and per local week (Monday first).</summary>
public sealed record FrequencyCap(int? PerDay, int? PerWeek);

/// <summary>Shop-wide rules across journeys: frequency caps per channel and a cap on concurrent marketing journeys.</summary>
public sealed record CrossJourneyRules
{
    public static CrossJourneyRules None { get; } = new();

    public IReadOnlyDictionary<string, FrequencyCap> Caps { get; init; } = new Dictionary<string, FrequencyCap>();

    /// <summary>0 means no limit.</summary>
    public int MaxConcurrentMarketingJourneys { get; init; }

    public bool HasCaps => Caps.Count > 0;
}

/// <summary>What a send step does when its channel's cap is reached. Names are wire contracts.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<CapPolicy>))]
public enum CapPolicy
{
    [JsonStringEnumMemberName("skip")] Skip,
    [JsonStringEnumMemberName("defer")] Defer,
    [JsonStringEnumMemberName("switch")] Switch,
}

/// <summary>A message already sent or queued to the customer, for frequency caps.</summary>
public sealed record RecentSend(DateTimeOffset At, string Channel, MessageClass Class);

/// <summary>A cap a send would exceed: <see cref="Limit"/> messages on <see cref="Channel"/> a <see cref="Period"/> ("day" or "week"), lifting at <see cref="LiftsAt"/>.</summary>
public sealed record ReachedCap(string Channel, int Limit, string Period, DateTimeOffset LiftsAt)
{
    public override string ToString() => $"{Limit} {Channel} a {Period}";
}

/// <summary>Frequency-cap arithmetic in the customer's time zone.</summary>
public static class FrequencyCaps
{
    /// <summary>How far back sends can count against a cap: a week, plus a day for time zones.</summary>
    public static readonly TimeSpan Lookback = TimeSpan.FromDays(8);

    /// <summary>The sends that can still count against a cap at <paramref name="now"/>.</summary>
    public static IEnumerable<RecentSend> StillCounting(IEnumerable<RecentSend> sends, DateTimeOffset now) =>
        sends.Where(s => StillCounts(s.At, now));

    /// <summary>Whether a send made at <paramref name="sentAt"/> can still count against a cap at <paramref name="now"/>.</summary>
    public static bool StillCounts(DateTimeOffset sentAt, DateTimeOffset now) => sentAt > now - Lookback;

    /// <summary>The sends that can still count against a cap when <paramref name="added"/> is made, with it added.</summary>
    public static IReadOnlyList<RecentSend> Remember(IReadOnlyList<RecentSend> sends, RecentSend added) =>
        [.. StillCounting(sends, added.At), added];

    /// <summary>When the cap that blocks a send at <paramref name="at"/> lifts; null if the send is within its caps.</summary>
    public static DateTimeOffset? BlockedUntil(CrossJourneyRules rules, string channel, MessageClass messageClass, DateTimeOffset at, TimeZoneInfo zone, IEnumerable<RecentSend> sends) =>
        Reached(rules, channel, messageClass, at, zone, sends)?.LiftsAt;

    /// <summary>The cap that blocks a send at <paramref name="at"/> (the week's before the day's); null if the send is within its caps.</summary>
    public static ReachedCap? Reached(CrossJourneyRules rules, string channel, MessageClass messageClass, DateTimeOffset at, TimeZoneInfo zone, IEnumerable<RecentSend> sends)
    {
        if (messageClass == MessageClass.Transactional || !rules.Caps.TryGetValue(channel, out var cap))
        {
            return null;
        }

        var local = TimeZoneInfo.ConvertTime(at, zone);
        var dayStart = DateOnly.FromDateTime(local.DateTime);
        var weekStart = dayStart.AddDays(-(((int)dayStart.DayOfWeek + 6) % 7));
        int today = 0, thisWeek = 0;
        foreach (var send in sends)
        {
            if (send.Channel != channel || send.Class == MessageClass.Transactional)
            {
                continue;
            }

            var sendDay = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(send.At, zone).DateTime);
            if (sendDay == dayStart) today++;
            if (sendDay >= weekStart && sendDay <= dayStart) thisWeek++;
        }

        if (cap.PerWeek is { } perWeek && thisWeek >= perWeek)
        {
            return new ReachedCap(channel, perWeek, "week", StartOf(weekStart.AddDays(7), zone));
        }

        if (cap.PerDay is { } perDay && today >= perDay)
        {
            return new ReachedCap(channel, perDay, "day", StartOf(dayStart.AddDays(1), zone));
        }

        return null;
    }

    private static DateTimeOffset StartOf(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue, DateTimeKind.Unspecified);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }
}
