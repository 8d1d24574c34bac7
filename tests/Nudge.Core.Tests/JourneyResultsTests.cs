using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Results;

namespace Nudge.Core.Tests;

/// <summary>What counts as a conversion (attribution windows) and how counters become a journey's results.</summary>
public class JourneyResultsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 10, 0, 0, TimeSpan.FromHours(9));
    private static readonly DateOnly Day = new(2026, 12, 1);
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    private static JourneyInstance Instance(bool heldOut = false) => new()
    {
        InstanceId = "welcome|shopify/1|1", Customer = new CustomerKey("shopify", "1"), Definition = JourneyCatalog.Welcome, StartedAt = Start,
        Sends = 1, HeldOut = heldOut,
    };

    private static DeliveryRecord Coupon(JourneyInstance instance, DateTimeOffset sentAt) => new()
    {
        DeliveryId = DeliveryId.For(instance.InstanceId, 0, 0), Customer = instance.Customer, JourneyId = "welcome", StepIndex = 0,
        Channel = ChannelNames.Email, Template = "welcome-coupon", Class = MessageClass.Ad, Status = DeliveryStatus.Delivered, ScheduledFor = sentAt, SentAt = sentAt,
    };

    private static CustomerEvent Order(DateTimeOffset at, decimal amount = 30_000) => new()
    {
        EventId = $"order-{at.UtcTicks}", Customer = new CustomerKey("shopify", "1"), Type = EventTypes.OrderPlaced, OccurredAt = at, Value = new Money(amount, "KRW"),
    };

    private static string[] Measured(IReadOnlyList<ResultFact> facts) => facts.Select(f => f.Measure).Order().ToArray();

    [Fact]
    public void OfGoal_OrderWithinADayOfTheMessage_IsItsConversionWithRevenue()
    {
        var instance = Instance();
        var facts = ResultFacts.OfGoal(instance, Order(Start.AddHours(12)), [(Coupon(instance, Start), [])]);

        Assert.Equal([Measures.Converted, Measures.GoalAfterEntry], Measured(facts));
        var converted = facts.Single(f => f.Measure == Measures.Converted);
        Assert.Equal((0, "email", 30_000m, "KRW"), (converted.Step, converted.Channel, converted.Amount, converted.Currency));
    }

    [Fact]
    public void OfGoal_ACartWithItsValue_ConvertsWithoutRevenue()
    {
        var instance = Instance();
        var cart = Order(Start.AddHours(12)) with { Type = EventTypes.CartUpdated };

        var facts = ResultFacts.OfGoal(instance, cart, [(Coupon(instance, Start), [])]);

        Assert.Equal([Measures.Converted, Measures.GoalAfterEntry], Measured(facts));
        Assert.All(facts, f => Assert.Equal((0m, null), (f.Amount, f.Currency)));
    }

    [Fact]
    public void OfGoal_OrderTwoDaysAfterTheMessageWithoutAClick_IsNoConversionButAGoalAfterEntry()
    {
        var instance = Instance();

        Assert.Equal([Measures.GoalAfterEntry], Measured(ResultFacts.OfGoal(instance, Order(Start.AddDays(2)), [(Coupon(instance, Start), [])])));
    }

    [Fact]
    public void OfGoal_OrderWithinThreeDaysOfAClick_IsAConversion()
    {
        var instance = Instance();
        var clicked = ResultFacts.OfGoal(instance, Order(Start.AddDays(3)), [(Coupon(instance, Start), [Start.AddDays(1)])]);
        var tooLate = ResultFacts.OfGoal(instance, Order(Start.AddDays(4.5)), [(Coupon(instance, Start), [Start.AddDays(1)])]);

        Assert.Contains(Measures.Converted, Measured(clicked));
        Assert.DoesNotContain(Measures.Converted, Measured(tooLate));
    }

    [Fact]
    public void OfGoal_HeldOutCustomerWithinTheConversionWindow_ConvertsWithoutMessages()
    {
        var facts = ResultFacts.OfGoal(Instance(heldOut: true), Order(Start.AddDays(20)), []);
        var afterWindow = ResultFacts.OfGoal(Instance(heldOut: true), Order(Start.AddDays(31)), []);

        Assert.Equal([Measures.Converted, Measures.GoalAfterEntry], Measured(facts));
        Assert.All(facts, f => Assert.Equal(Groups.Holdout, f.Group));
        Assert.Empty(afterWindow);
    }

    [Fact]
    public void OfGoal_SameInstanceTwice_MintsTheSameIds()
    {
        var instance = Instance();
        var first = ResultFacts.OfGoal(instance, Order(Start.AddHours(1)), [(Coupon(instance, Start), [])]);
        var second = ResultFacts.OfGoal(instance, Order(Start.AddHours(5), 99_000), [(Coupon(instance, Start), [])]);

        Assert.Equal(first.Select(f => f.Id), second.Select(f => f.Id));
    }

    [Fact]
    public void OfDecision_CapSkipAndLateSplit_CountCapAndAssignment()
    {
        var before = Instance();
        var after = before with
        {
            Branches = new Dictionary<string, string> { ["split"] = "b" },
            History = [new HistoryEntry(Start.AddDays(2), "day2-sms", "frequency cap on sms: skipped")],
        };

        var facts = ResultFacts.OfDecision(before, after);

        Assert.Equal([Measures.Assigned, Measures.Capped], Measured(facts));
        var capped = facts.Single(f => f.Measure == Measures.Capped);
        Assert.Equal((2, "sms", "skipped", "split:b"), (capped.Step, capped.Channel, capped.Reason, capped.Group));
    }

    private static ResultCounters Counters(params (string Measure, string Group, long Count, decimal Sum, decimal SumOfSquares, string Currency)[] rows)
    {
        var counters = new ResultCounters();
        foreach (var (measure, group, count, sum, squares, currency) in rows)
        {
            counters.Add(new CounterKey(Day, measure, null, "", group, "", currency), new CounterValue(count, sum, squares));
        }

        return counters;
    }

    [Fact]
    public void Build_HoldoutWithClearLift_IsSignificantWithRevenuePerCustomer()
    {
        var report = JourneyResults.Build(JourneyCatalog.Welcome, "welcome", Day, Day, Counters(
            (Measures.Entered, "", 1000, 0, 0, ""), (Measures.Entered, Groups.Holdout, 1000, 0, 0, ""),
            (Measures.GoalAfterEntry, "", 120, 3_600_000, 120m * 30_000 * 30_000, "KRW"),
            (Measures.GoalAfterEntry, Groups.Holdout, 80, 2_400_000, 80m * 30_000 * 30_000, "KRW")));

        var holdout = report.Holdout!;
        Assert.Equal((1000L, 80L, 1000L, 120L), (holdout.Members, holdout.Converted, holdout.MessagedMembers, holdout.MessagedConverted));
        Assert.Equal(0.04, holdout.Lift, 10);
        Assert.True(holdout.Conclusive && holdout.Significant);
        Assert.InRange(holdout.PValue, 0.002, 0.004);
        Assert.Equal(0.5, holdout.RelativeLift!.Value, 10);
        var revenue = Assert.Single(holdout.RevenuePerCustomer);
        Assert.Equal(("KRW", 3600.0, 2400.0, 1200.0), (revenue.Currency, revenue.MessagedPerCustomer, revenue.HoldoutPerCustomer, revenue.Difference));
        Assert.True(revenue.DifferenceInterval!.Low > 0);
    }

    [Fact]
    public void Build_TinyHoldout_SaysTooSmallToConclude()
    {
        var report = JourneyResults.Build(JourneyCatalog.Welcome, "welcome", Day, Day, Counters(
            (Measures.Entered, "", 12, 0, 0, ""), (Measures.Entered, Groups.Holdout, 3, 0, 0, ""), (Measures.GoalAfterEntry, "", 6, 0, 0, "")));

        Assert.False(report.Holdout!.Conclusive);
        Assert.False(report.Holdout.Significant);
        Assert.StartsWith("too small to conclude", report.Holdout.Verdict);
    }

    [Fact]
    public void Build_Variants_ComparedWithTheFirstBranchHolmCorrected_RevenueNeverSummedAcrossCurrencies()
    {
        var report = JourneyResults.Build(null, "ab", Day, Day, Counters(
            (Measures.Entered, "split:a", 500, 0, 0, ""), (Measures.Entered, "split:b", 500, 0, 0, ""), (Measures.Assigned, "split:c", 500, 0, 0, ""),
            (Measures.GoalAfterEntry, "split:a", 50, 100, 0, "USD"), (Measures.GoalAfterEntry, "split:b", 80, 0, 0, ""), (Measures.GoalAfterEntry, "split:c", 52, 0, 0, ""),
            (Measures.Converted, "split:a", 10, 1000, 0, "KRW"), (Measures.Converted, "split:b", 10, 25, 0, "USD")));

        Assert.Equal(["split:a", "split:b", "split:c"], report.Variants.Select(v => v.Variant));
        Assert.Null(report.Variants[0].VersusBaseline);
        Assert.True(report.Variants[1].VersusBaseline!.Significant);
        Assert.False(report.Variants[2].VersusBaseline!.Significant);
        Assert.True(report.Variants[1].VersusBaseline!.AdjustedPValue >= report.Variants[1].VersusBaseline!.PValue);
        Assert.Equal([new CurrencyAmount("KRW", 1000), new CurrencyAmount("USD", 25)], report.Revenue);
        Assert.Null(report.Holdout);
    }

    [Fact]
    public void Build_Steps_NameEverySendStepOfTheJourneyWithItsFunnel()
    {
        var counters = new ResultCounters();
        counters.Add(new CounterKey(Day, Measures.Sent, 0, "email", "", "", ""), new CounterValue(3, 0, 0));
        counters.Add(new CounterKey(Day, Measures.Clicked, 0, "email", "", "", ""), new CounterValue(1, 0, 0));
        counters.Add(new CounterKey(Day, Measures.Suppressed, 2, "sms", "", "no sms marketing consent", ""), new CounterValue(2, 0, 0));

        var steps = JourneyResults.Build(JourneyCatalog.Welcome, "welcome", Day, Day, counters).Steps;

        Assert.Equal([("coupon", "email", 3L, 1L, 0L), ("day2-sms", "sms", 0L, 0L, 2L)], steps.Select(s => (s.Step, s.Channel, s.Sent, s.Clicked, s.Suppressed)));
        Assert.Equal([new ReasonCount("no sms marketing consent", 2)], steps[1].SuppressedBy);
    }

    [Fact]
    public void DayOf_LateEveningUtc_IsTheNextDayInSeoul() =>
        Assert.Equal(new DateOnly(2026, 12, 2), ResultCounters.DayOf(new DateTimeOffset(2026, 12, 1, 16, 0, 0, TimeSpan.Zero), Seoul));
}
