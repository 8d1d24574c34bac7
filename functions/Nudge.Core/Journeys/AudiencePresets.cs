using System.Globalization;

namespace Nudge.Core.Journeys;

/// <summary>
/// The audiences of the Bigin case study, which builds them from the shop's own customer data: each one a segment
/// definition over profile facts and times relative to now (calendar days in the customer's or shop's time zone).
/// Created with the other presets when a deployment starts without them; a marketer's edits are kept.
/// </summary>
public static class AudiencePresets
{
    /// <summary>Days after signup without a first order.</summary>
    public static IReadOnlyList<int> NoOrderAfterSignupDays { get; } = [1, 3, 7, 14, 30];

    /// <summary>Days since the last order (a customer who ordered before and not since).</summary>
    public static IReadOnlyList<int> NoRepurchaseDays { get; } = [15, 30, 60, 90, 180];

    public static IReadOnlyList<int> PointsAtLeast { get; } = [2_000, 5_000, 10_000];

    public static IReadOnlyList<int> NoLoginDays { get; } = [60, 90, 180];

    /// <summary>Days without any activity after which a customer counts as dormant (a year's notice period before 365).</summary>
    public const int DormantDays = 335;

    public static Condition Dormant { get; } = Condition.Is("profile.lastSeenAt", "lt", DaysAgo(DormantDays));

    public static IReadOnlyList<Segment> Bigin { get; } =
    [
        .. NoOrderAfterSignupDays.Select(days => new Segment
        {
            Id = $"no-order-{days}d-after-signup",
            Name = $"No purchase {days} days after signup",
            Condition = new Condition { All = [Condition.Is("profile.hasOrdered", "eq", "false"), Condition.Is("profile.signedUpAt", "lt", DaysAgo(days))] },
        }),
        .. NoRepurchaseDays.Select(days => new Segment
        {
            Id = $"no-repurchase-{days}d",
            Name = $"No repurchase for {days} days",
            Condition = Condition.Is("profile.lastOrderAt", "lt", DaysAgo(days)),
        }),
        .. PointsAtLeast.Select(points => new Segment
        {
            Id = $"points-{points}",
            Name = $"Points of {points.ToString("N0", CultureInfo.InvariantCulture)} or more",
            Condition = Condition.Is("profile.points", "gte", points.ToString(CultureInfo.InvariantCulture)),
        }),
        .. NoLoginDays.Select(days => new Segment
        {
            Id = $"no-login-{days}d",
            Name = $"Last login more than {days} days ago",
            Condition = Condition.Is("profile.lastLoginAt", "lt", DaysAgo(days)),
        }),
        new Segment { Id = $"dormant-{DormantDays}d", Name = $"Dormant for {DormantDays} days", Condition = Dormant },
        new Segment
        {
            Id = "consented-active",
            Name = "Accepts advertising, not dormant",
            Condition = new Condition
            {
                All =
                [
                    new Condition { Any = [Condition.Is("profile.emailConsent", "eq", "true"), Condition.Is("profile.smsConsent", "eq", "true")] },
                    new Condition { Not = Dormant },
                ],
            },
        },
    ];

    private static string DaysAgo(int days) => $"now-P{days.ToString(CultureInfo.InvariantCulture)}D";
}
