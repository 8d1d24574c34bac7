using System.Text.Json;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Tests;

public class JourneyLanguageTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly CustomerKey Customer = new("shopify", "42");
    private static readonly DateTimeOffset Noon = new(2026, 11, 24, 12, 0, 0, TimeSpan.FromHours(9)); // a Tuesday

    private static CustomerContext Context(params (string Key, string Value)[] facts) =>
        new(Seoul, false, null, facts.ToDictionary(f => f.Key, f => f.Value));

    private static JourneyDefinition Journey(params JourneyStep[] steps) => new()
    {
        Id = "test", Version = 1, Entry = JourneyEntry.OnEvent("customer.signed_up", businessKey: "checkoutId"), Steps = steps,
    };

    private static SendStep Send(string id, string? next = null) => new() { Id = id, Channel = ChannelNames.Email, Template = id, Next = next };

    private static JourneyDecision Fire(JourneyDecision decision, CustomerContext? context = null)
    {
        var timer = decision.Commands.OfType<ScheduleTimer>().Last();
        return JourneyInterpreter.Apply(decision.Instance, new TimerFired(timer.DueAt, timer.Sequence), context ?? Context());
    }

    private static IEnumerable<string> Templates(JourneyDecision decision) => decision.Commands.OfType<SendMessage>().Select(s => s.Template);

    [Fact]
    public void Presets_AllValidateAndSurviveAJsonRoundTrip()
    {
        foreach (var preset in JourneyCatalog.Presets)
        {
            var (errors, warnings) = JourneyValidator.Validate(preset);
            var json = JsonSerializer.Serialize(preset, NudgeJson.Options);
            var back = JsonSerializer.Deserialize<JourneyDefinition>(json, NudgeJson.Options)!;

            Assert.True(errors.Count == 0, $"{preset.Id}: {string.Join("; ", errors)}");
            Assert.Empty(warnings);
            Assert.Equal(json, JsonSerializer.Serialize(back, NudgeJson.Options));
        }
    }

    [Fact]
    public void Json_DurationsAreIso8601AndStepTypesNamed()
    {
        var json = JsonSerializer.Serialize(JourneyCatalog.Welcome, NudgeJson.Options);

        Assert.Contains("\"duration\":\"P2D\"", json);
        Assert.Contains("\"type\":\"send\"", json);
        Assert.Contains("\"class\":\"ad\"", json);
    }

    [Fact]
    public void Validate_BrokenDefinition_ReportsEachProblemWithItsPath()
    {
        var broken = new JourneyDefinition
        {
            Id = "Bad Id",
            Version = 1,
            Entry = new JourneyEntry { Event = "x", Segment = "y" },
            Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterCooldown },
            Steps =
            [
                new SendStep { Id = "a", Channel = "fax", Template = "", Next = "nowhere" },
                new SendStep { Id = "a", Channel = ChannelNames.Email, Template = "t" },
                new HoldoutStep { Id = "h", Percent = 100 },
                new ConditionStep { Id = "c", Condition = new Condition { Fact = "profile.x", Op = "like" }, Then = "c", Else = "h" },
            ],
        };

        var (errors, _) = JourneyValidator.Validate(broken);
        var paths = errors.Select(e => e.Path).ToHashSet();

        Assert.Superset(new HashSet<string>
        {
            "id", "entry", "reentry.cooldown", "steps[0].channel", "steps[0].template", "steps[0].next", "steps[1].id",
            "steps[2].percent", "steps[3].condition.op",
        }, paths);
    }

    [Fact]
    public void Validate_LoopWithoutWait_IsRejectedAndLoopWithWaitIsAllowed()
    {
        var spinning = Journey(
            new ConditionStep { Id = "c", Condition = Condition.Is("profile.x", "exists"), Then = "s", Else = "c" },
            Send("s", next: "c"));
        var patient = Journey(
            new ConditionStep { Id = "c", Condition = Condition.Is("profile.x", "exists"), Then = "s", Else = "w" },
            Send("s", next: "w"),
            new WaitStep { Id = "w", Duration = TimeSpan.FromDays(1), Next = "c" });

        Assert.Contains(JourneyValidator.Validate(spinning).Errors, e => e.Message.Contains("never waits"));
        Assert.Empty(JourneyValidator.Validate(patient).Errors);
    }

    [Fact]
    public void WaitForEvent_MatchingEventWithTheKey_TakesOnEventBranch()
    {
        var journey = Journey(
            new WaitForEventStep { Id = "w", Event = "checkout.completed", Timeout = TimeSpan.FromDays(1), MatchBusinessKey = true, OnEvent = "thanks", OnTimeout = "offer" },
            Send("offer", next: "end"),
            Send("thanks", next: "end"),
            new ExitStep { Id = "end" });
        var started = JourneyInterpreter.Start(journey, Customer, Noon, Context(), new EntryTrigger("e1", "cart-1", new Dictionary<string, string>()));

        var otherCart = JourneyInterpreter.Apply(started.Instance, new EventArrived(Noon.AddHours(1), "checkout.completed", "e2", "cart-2"), Context());
        var thisCart = JourneyInterpreter.Apply(started.Instance, new EventArrived(Noon.AddHours(1), "checkout.completed", "e3", "cart-1"), Context());

        Assert.False(otherCart.Changed);
        Assert.Equal(["thanks"], Templates(thisCart));
        Assert.Equal(InstanceStatus.Exited, thisCart.Instance.Status);
    }

    [Fact]
    public void WaitForEvent_Timeout_TakesOnTimeoutBranch_AndResetRestartsTheClock()
    {
        var journey = Journey(
            new WaitForEventStep { Id = "w", Event = "checkout.completed", Timeout = TimeSpan.FromDays(1), ResetOn = "checkout.updated", OnEvent = "end", OnTimeout = "offer" },
            Send("offer", next: "end"),
            new ExitStep { Id = "end" });
        var started = JourneyInterpreter.Start(journey, Customer, Noon, Context());

        var reset = JourneyInterpreter.Apply(started.Instance, new EventArrived(Noon.AddHours(20), "checkout.updated", "u1"), Context());
        var staleTimer = JourneyInterpreter.Apply(reset.Instance, new TimerFired(Noon.AddDays(1), 1), Context());
        var timedOut = Fire(reset);

        Assert.Equal(Noon.AddHours(44), Assert.IsType<ScheduleTimer>(Assert.Single(reset.Commands)).DueAt);
        Assert.False(staleTimer.Changed);
        Assert.Equal(["offer"], Templates(timedOut));
    }

    [Fact]
    public void Condition_RoutesOnFacts()
    {
        var journey = Journey(
            new ConditionStep { Id = "vip", Condition = new Condition { All = [Condition.Is("event.total", "gte", "100000"), Condition.Is("profile.smsConsent", "eq", "true")] }, Then = "vip-offer", Else = "plain" },
            Send("vip-offer", next: "end"),
            Send("plain", next: "end"),
            new ExitStep { Id = "end" });
        var bigSpender = new EntryTrigger("e", null, new Dictionary<string, string> { ["event.total"] = "120000" });

        var vip = JourneyInterpreter.Start(journey, Customer, Noon, Context(("profile.smsConsent", "true")), bigSpender);
        var notConsented = JourneyInterpreter.Start(journey, Customer, Noon, Context(("profile.smsConsent", "false")), bigSpender);

        Assert.Equal(["vip-offer"], Templates(vip));
        Assert.Equal(["plain"], Templates(notConsented));
    }

    [Fact]
    public void RandomSplit_IsDeterministicAndFollowsTheWeights()
    {
        var journey = Journey(
            new RandomSplitStep { Id = "ab", Branches = [new SplitBranch("A", 70, "a"), new SplitBranch("B", 30, "b")] },
            Send("a", next: "end"),
            Send("b", next: "end"),
            new ExitStep { Id = "end" });

        var branches = Enumerable.Range(0, 10_000)
            .Select(i => JourneyInterpreter.Start(journey, new CustomerKey("shopify", i.ToString()), Noon, Context()).Instance.Branches["ab"])
            .ToList();
        var again = JourneyInterpreter.Start(journey, new CustomerKey("shopify", "7"), Noon.AddDays(3), Context()).Instance.Branches["ab"];

        Assert.InRange(branches.Count(b => b == "A") / 10_000.0, 0.68, 0.72);
        Assert.Equal(branches[7], again);
    }

    [Fact]
    public void Holdout_ControlGroupGetsNothingButConversionsCount()
    {
        var journey = JourneyCatalog.Welcome with
        {
            Steps = [new HoldoutStep { Id = "control", Percent = 20 }, .. JourneyCatalog.Welcome.Steps],
        };
        var decisions = Enumerable.Range(0, 2_000)
            .Select(i => JourneyInterpreter.Start(journey, new CustomerKey("shopify", i.ToString()), Noon, Context()))
            .ToList();
        var held = decisions.Where(d => d.Instance.HeldOut).ToList();

        var converted = JourneyInterpreter.Apply(held[0].Instance, new EventArrived(Noon.AddDays(3), "order.placed", "o1"), Context());
        var windowOver = Fire(held[1]);

        Assert.InRange(held.Count / 2_000.0, 0.17, 0.23);
        Assert.All(held, d => Assert.Empty(d.Commands.OfType<SendMessage>()));
        Assert.All(decisions.Except(held), d => Assert.Single(d.Commands.OfType<SendMessage>()));
        Assert.True(converted.Instance.Converted);
        Assert.Equal((InstanceStatus.Completed, "holdout: conversion window ended"), (windowOver.Instance.Status, windowOver.Instance.EndReason));
    }

    [Fact]
    public void WaitUntilTime_WaitsForTheNextAllowedWeekdayInTheCustomersZone()
    {
        var journey = Journey(new WaitUntilTimeStep { Id = "fri-10", LocalTime = "10:00", Weekdays = ["fri"] }, Send("s"));

        var started = JourneyInterpreter.Start(journey, Customer, Noon, Context());

        Assert.Equal(new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.FromHours(9)), started.Instance.WaitingUntil);
        Assert.Equal(["s"], Templates(Fire(started)));
    }

    [Fact]
    public void WaitUntilDate_UsesTheProfileDateAndOffset_OrTheMissingBranch()
    {
        var journey = Journey(
            new WaitUntilDateStep { Id = "birthday", Fact = "profile.birthday", Offset = TimeSpan.FromDays(-1), OnMissing = "end" },
            Send("gift", next: "end"),
            new ExitStep { Id = "end" });

        var known = JourneyInterpreter.Start(journey, Customer, Noon, Context(("profile.birthday", "2026-12-25T00:00:00+09:00")));
        var unknown = JourneyInterpreter.Start(journey, Customer, Noon, Context());

        Assert.Equal(new DateTimeOffset(2026, 12, 24, 0, 0, 0, TimeSpan.FromHours(9)), known.Instance.WaitingUntil);
        Assert.Equal((InstanceStatus.Exited, "exit step"), (unknown.Instance.Status, unknown.Instance.EndReason));
    }

    [Theory]
    [InlineData(ReentryPolicy.OnceEver, false, 0, false)]
    [InlineData(ReentryPolicy.AfterExit, false, 0, false)]
    [InlineData(ReentryPolicy.AfterExit, true, 0, true)]
    [InlineData(ReentryPolicy.AfterCooldown, true, 6, false)]
    [InlineData(ReentryPolicy.AfterCooldown, true, 8, true)]
    public void MayEnter_FollowsTheReentryPolicy(string policy, bool ended, int daysLater, bool expected)
    {
        var journey = JourneyCatalog.Welcome with { Reentry = new ReentryPolicy { Policy = policy, Cooldown = TimeSpan.FromDays(7) } };
        var existing = JourneyInterpreter.Start(journey, Customer, Noon, Context()).Instance;
        if (ended)
        {
            existing = existing with { Status = InstanceStatus.Completed, EndedAt = Noon };
        }

        Assert.Equal(expected, JourneyInterpreter.MayEnter(journey, existing, Noon.AddDays(daysLater)));
    }

    [Fact]
    public void Reentry_NewEntryMintsNewDeliveryIds()
    {
        var first = JourneyInterpreter.Start(JourneyCatalog.PostPurchase, Customer, Noon, Context());
        var second = JourneyInterpreter.Start(JourneyCatalog.PostPurchase, Customer, Noon.AddDays(10), Context(), entry: 2);

        Assert.NotEqual(first.Commands.OfType<SendMessage>().Single().DeliveryId, second.Commands.OfType<SendMessage>().Single().DeliveryId);
    }

    [Fact]
    public void Archived_EndsTheInstanceWithoutSending()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, Noon, Context());

        var archived = JourneyInterpreter.Apply(started.Instance, new JourneyArchived(Noon.AddDays(2)), Context());

        Assert.Equal((InstanceStatus.Exited, "journey archived"), (archived.Instance.Status, archived.Instance.EndReason));
        Assert.Empty(archived.Commands);
    }

    [Fact]
    public void History_ExplainsEachDecision()
    {
        var started = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, Noon, Context(), new EntryTrigger("signup-1", null, new Dictionary<string, string>()));

        var whats = started.Instance.History.Select(h => h.What).ToList();

        Assert.Equal("entered on signup-1", whats[0]);
        Assert.StartsWith("send email 'welcome-coupon'", whats[1]);
        Assert.StartsWith("waiting until 2026-11-26T12:00:00", whats[2]);
    }
}
