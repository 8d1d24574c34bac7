using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Tests;

/// <summary>Conditions against moments relative to evaluation time (<c>now-P14D</c>), and the audiences built on them.</summary>
public class RelativeTimeTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    // 10:35 in Seoul on 7 December.
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 1, 35, 0, TimeSpan.Zero);
    private static readonly EvaluationTime InSeoul = new(Now, Seoul);

    private static DateTimeOffset Resolve(string value, EvaluationTime at)
    {
        Assert.True(RelativeTime.TryParse(value, out var relative), value);
        return relative.Resolve(at);
    }

    [Fact]
    public void Resolve_CalendarDays_StartOfThatLocalDay()
    {
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.FromHours(9)), Resolve("now-P14D", InSeoul));
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.FromHours(9)), Resolve("now-P1W", InSeoul));
        Assert.Equal(new DateTimeOffset(2025, 10, 7, 0, 0, 0, TimeSpan.FromHours(9)), Resolve("now-P1Y2M", InSeoul));
        Assert.Equal(new DateTimeOffset(2026, 12, 10, 0, 0, 0, TimeSpan.FromHours(9)), Resolve("now+P3D", InSeoul));
    }

    [Fact]
    public void Resolve_TimeParts_AreElapsedTimeFromNow()
    {
        Assert.Equal(Now, Resolve("now", InSeoul));
        Assert.Equal(Now.AddHours(-2), Resolve("now-PT2H", InSeoul));
        Assert.Equal(Now.AddMinutes(90), Resolve("now+PT1H30M", InSeoul));
        Assert.Equal(Now.AddDays(-1).AddHours(-6), Resolve("now-P1DT6H", InSeoul));
    }

    [Fact]
    public void Resolve_AcrossDaylightSaving_CountsLocalCalendarDays()
    {
        // Noon on 10 March in New York (EDT since the 8th); three calendar days back is midnight of the 7th, still EST.
        var at = new EvaluationTime(new DateTimeOffset(2026, 3, 10, 16, 0, 0, TimeSpan.Zero), NewYork);

        Assert.Equal(new DateTimeOffset(2026, 3, 7, 0, 0, 0, TimeSpan.FromHours(-5)), Resolve("now-P3D", at));
    }

    [Fact]
    public void Resolve_BeyondTheCalendar_IsEarlierOrLaterThanAnyDate()
    {
        Assert.Equal(DateTimeOffset.MinValue, Resolve("now-P99999Y", InSeoul));
        Assert.Equal(DateTimeOffset.MaxValue, Resolve("now+P99999Y", InSeoul));
    }

    [Theory]
    [InlineData("now-14D")]
    [InlineData("now-P")]
    [InlineData("now-PT")]
    [InlineData("now-P1.5D")]
    [InlineData("now-P1DT")]
    [InlineData("now+-P1D")]
    [InlineData("now-p1d")]
    [InlineData("now-P1000000D")]
    public void TryParse_Malformed_IsRefused(string value)
    {
        Assert.True(RelativeTime.IsRelative(value));
        Assert.False(RelativeTime.TryParse(value, out _));
    }

    [Theory]
    [InlineData("nowhere.example")]
    [InlineData("2026-12-01")]
    [InlineData("Now-P1D")]
    public void IsRelative_OtherValues_AreFixedValues(string value) => Assert.False(RelativeTime.IsRelative(value));

    [Theory]
    [InlineData("2026-09-07T23:59:59+09:00", true)] // a day before the day 90 days ago
    [InlineData("2026-09-08T00:00:00+09:00", false)] // on the day 90 days ago
    [InlineData("2026-09-07T15:00:00+00:00", false)] // 00:00 on 8 September in Seoul
    [InlineData("not a date", false)]
    public void Evaluate_LastLoginBeforeNinetyDaysAgo(string lastLogin, bool matches)
    {
        var condition = Condition.Is("profile.lastLoginAt", "lt", "now-P90D");

        Assert.Equal(matches, condition.Evaluate(new Dictionary<string, string> { ["profile.lastLoginAt"] = lastLogin }, InSeoul));
    }

    [Theory]
    [InlineData("lt")]
    [InlineData("lte")]
    [InlineData("gt")]
    [InlineData("gte")]
    [InlineData("eq")]
    public void Evaluate_MissingDate_NeverMatchesAComparison(string op) =>
        Assert.False(Condition.Is("profile.lastLoginAt", op, "now-P90D").Evaluate(new Dictionary<string, string>(), InSeoul));

    [Fact]
    public void Evaluate_SameInputs_SameAnswer_AndTheZoneDecidesTheDay()
    {
        var condition = Condition.Is("profile.signedUpAt", "lt", "now-P1D");
        // 23:30 on 5 December UTC is 08:30 on the 6th in Seoul: "before yesterday" in UTC, "yesterday" in Seoul.
        var facts = new Dictionary<string, string> { ["profile.signedUpAt"] = "2026-12-05T23:30:00+00:00" };

        Assert.Equal(condition.Evaluate(facts, InSeoul), condition.Evaluate(facts, InSeoul));
        Assert.False(condition.Evaluate(facts, InSeoul));
        Assert.True(condition.Evaluate(facts, new EvaluationTime(Now, TimeZoneInfo.Utc)));
    }

    [Property(MaxTest = 200)]
    public Property Evaluate_BeforeNDaysAgo_OnceTrueStaysTrueAsTimePasses()
    {
        var cases = from days in Gen.Choose(0, 400)
                    from loginHoursAgo in Gen.Choose(0, 24 * 500)
                    from laterHours in Gen.Choose(0, 24 * 60)
                    select (days, loginHoursAgo, laterHours);
        return Prop.ForAll(cases.ToArbitrary(), c =>
        {
            var condition = Condition.Is("profile.lastLoginAt", "lt", $"now-P{c.days}D");
            var facts = new Dictionary<string, string> { ["profile.lastLoginAt"] = Now.AddHours(-c.loginHoursAgo).ToString("O") };
            var earlier = condition.Evaluate(facts, InSeoul);
            var later = condition.Evaluate(facts, InSeoul with { Now = Now.AddHours(c.laterHours) });
            return !earlier || later;
        });
    }

    [Fact]
    public void Validator_MalformedRelativeValue_IsAnError()
    {
        var segment = new Segment { Id = "lapsed", Condition = Condition.Is("profile.lastLoginAt", "lt", "now-90D") };

        var errors = JourneyValidator.ValidateSegment(segment);

        Assert.Equal("condition.value", Assert.Single(errors).Path);
    }

    [Fact]
    public void AudiencePresets_AreValid_AndOneSegmentEach()
    {
        Assert.All(AudiencePresets.Bigin, segment => Assert.Empty(JourneyValidator.ValidateSegment(segment)));
        Assert.Equal(AudiencePresets.Bigin.Count, AudiencePresets.Bigin.Select(s => s.Id).Distinct().Count());
        Assert.Equal(18, AudiencePresets.Bigin.Count);
    }

    [Fact]
    public void AudiencePresets_ClassifyProfiles()
    {
        var key = new CustomerKey("shopify", "1");
        var signedUpFourDaysAgo = new CustomerProfile { Key = key, SignedUpAt = Now.AddDays(-4), LastSeenAt = Now.AddDays(-4), PointsBalance = 5_000 };
        var lapsedBuyer = new CustomerProfile
        {
            Key = key, SignedUpAt = Now.AddDays(-400), FirstOrderAt = Now.AddDays(-100), LastOrderAt = Now.AddDays(-40),
            LastLoginAt = Now.AddDays(-100), LastSeenAt = Now.AddDays(-40), Consent = new MarketingConsent(true, false, false),
        };
        var dormant = new CustomerProfile { Key = key, SignedUpAt = Now.AddDays(-700), LastSeenAt = Now.AddDays(-340), Consent = new MarketingConsent(false, true, false) };

        Assert.Equal(["no-order-1d-after-signup", "no-order-3d-after-signup", "points-2000", "points-5000"], MembersOf(signedUpFourDaysAgo));
        Assert.Equal(["consented-active", "no-login-60d", "no-login-90d", "no-repurchase-15d", "no-repurchase-30d"], MembersOf(lapsedBuyer));
        Assert.Equal(["dormant-335d", "no-order-14d-after-signup", "no-order-1d-after-signup", "no-order-30d-after-signup", "no-order-3d-after-signup", "no-order-7d-after-signup"], MembersOf(dormant));
    }

    private static List<string> MembersOf(CustomerProfile profile) =>
        SegmentLibrary.Memberships(AudiencePresets.Bigin, profile, InSeoul).Where(m => m.Value == "true").Select(m => m.Key["segment.".Length..]).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void OrdersCount_CountsEachOrderOnce_WhateverItsEventsAndRedeliveries()
    {
        var key = new CustomerKey("shopify", "1");
        CustomerEvent Order(string type, string orderId, string eventId, int day) =>
            new() { EventId = eventId, Customer = key, Type = type, OccurredAt = Now.AddDays(day), SubjectId = orderId };

        var events = new[]
        {
            Order(EventTypes.OrderPlaced, "o1", "e1", -3), Order(EventTypes.OrderPaid, "o1", "e2", -3), Order(EventTypes.OrderPlaced, "o1", "e1", -3),
            Order(EventTypes.OrderPlaced, "o2", "e3", -1),
        };
        var profile = events.Aggregate((CustomerProfile?)null, ProfileUpdates.Apply)!;
        var reordered = events.Reverse().Aggregate((CustomerProfile?)null, ProfileUpdates.Apply)!;

        Assert.Equal("2", CustomerFacts.OfProfile(profile)["profile.ordersCount"]);
        Assert.Equal(profile.Orders, reordered.Orders);
        Assert.Equal("0", CustomerFacts.OfProfile(new CustomerProfile { Key = key })["profile.ordersCount"]);
    }

    [Fact]
    public void OrderSet_RoundTripsThroughJson()
    {
        var profile = new CustomerProfile { Key = new CustomerKey("shopify", "1"), Orders = OrderSet.None.With("a").With("b") };

        var read = System.Text.Json.JsonSerializer.Deserialize<CustomerProfile>(System.Text.Json.JsonSerializer.Serialize(profile, NudgeJson.Options), NudgeJson.Options)!;

        Assert.Equal(2, read.Orders.Count);
        Assert.Equal(profile.Orders, read.Orders);
    }
}
