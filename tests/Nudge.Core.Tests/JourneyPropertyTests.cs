using FsCheck.Xunit;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Tests;

/// <summary>Properties over random valid journeys driven by random event orders (seeded, so every failure replays).</summary>
public class JourneyPropertyTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly string[] EventTypes = ["order.placed", "checkout.updated", "checkout.completed", "customer.visited"];

    /// <summary>Random journeys whose non-waiting steps only point forward, so every loop passes a wait (as validation demands).</summary>
    private static JourneyDefinition RandomJourney(Random random)
    {
        var count = random.Next(2, 9);
        var ids = Enumerable.Range(0, count).Select(i => $"s{i}").ToList();
        string Forward(int i) => i + 1 < count ? ids[random.Next(i + 1, count)] : ids[^1];
        string Anywhere() => ids[random.Next(count)];
        var steps = new List<JourneyStep>();
        for (var i = 0; i < count; i++)
        {
            var isLast = i == count - 1;
            var kind = isLast ? random.Next(0, 2) : random.Next(0, 9);
            steps.Add(kind switch
            {
                0 => new SendStep
                {
                    Id = ids[i], Channel = ChannelNames.All[random.Next(ChannelNames.All.Count)], Template = $"t{i}",
                    Class = (MessageClass)random.Next(3), Next = isLast ? null : Forward(i),
                },
                1 => new ExitStep { Id = ids[i] },
                2 => new WaitStep { Id = ids[i], Duration = TimeSpan.FromHours(random.Next(1, 72)), Next = Anywhere() },
                3 => new WaitForEventStep
                {
                    Id = ids[i], Event = EventTypes[random.Next(EventTypes.Length)], Timeout = TimeSpan.FromHours(random.Next(1, 48)),
                    ResetOn = random.Next(2) == 0 ? EventTypes[random.Next(EventTypes.Length)] : null,
                    MatchBusinessKey = random.Next(2) == 0, OnEvent = Anywhere(), OnTimeout = Anywhere(),
                },
                4 => new ConditionStep { Id = ids[i], Condition = Condition.Is("profile.hasOrdered", "eq", "true"), Then = Forward(i), Else = Forward(i) },
                5 => new RandomSplitStep { Id = ids[i], Branches = [new SplitBranch("A", random.Next(1, 5), Forward(i)), new SplitBranch("B", random.Next(1, 5), Forward(i))] },
                6 => new HoldoutStep { Id = ids[i], Percent = random.Next(1, 99), Next = Forward(i) },
                7 => new WaitUntilTimeStep { Id = ids[i], LocalTime = $"{random.Next(24):D2}:{random.Next(60):D2}", Next = Anywhere() },
                _ => new SendStep { Id = ids[i], Channel = ChannelNames.Sms, Template = $"t{i}", Class = MessageClass.Ad, Next = Forward(i) },
            });
        }

        return new JourneyDefinition
        {
            Id = "random", Version = 1, Entry = JourneyEntry.OnEvent("customer.signed_up", businessKey: "checkoutId"),
            ExitOn = random.Next(2) == 0 ? [new ExitRule { Event = "order.placed" }] : [], Steps = steps,
        };
    }

    private sealed record Run(JourneyDefinition Journey, List<JourneyDecision> Decisions, bool NightConsent);

    /// <summary>One ad per channel per local day, and at most three a week.</summary>
    private static readonly CrossJourneyRules Caps = new()
    {
        Caps = ChannelNames.All.ToDictionary(c => c, _ => new FrequencyCap(1, 3)),
    };

    private static Run Drive(int seed, bool capped = false)
    {
        var random = new Random(seed);
        var journey = RandomJourney(random);
        var nightConsent = random.Next(4) == 0;
        var context = new CustomerContext(Seoul, nightConsent, null, new Dictionary<string, string> { ["profile.hasOrdered"] = random.Next(2) == 0 ? "true" : "false" },
            capped ? Caps : null);
        var at = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.Zero).AddMinutes(random.Next(0, 60 * 24));
        var decision = JourneyInterpreter.Start(journey, new CustomerKey("shopify", seed.ToString()), at, context, new EntryTrigger("e0", "k1", new Dictionary<string, string>()));
        var decisions = new List<JourneyDecision> { decision };
        for (var step = 0; step < 40 && !decision.Instance.IsEnded; step++)
        {
            JourneyInput input;
            if (random.Next(3) == 0)
            {
                at += TimeSpan.FromMinutes(random.Next(1, 3000));
                input = new EventArrived(at, EventTypes[random.Next(EventTypes.Length)], $"e{step}", random.Next(2) == 0 ? "k1" : "k2");
            }
            else
            {
                // The due timer, or now and then a stale or duplicate one.
                var due = decision.Instance.WaitingUntil ?? at;
                at = due > at ? due : at;
                input = new TimerFired(at, random.Next(5) == 0 ? decision.Instance.TimerSequence - 1 : decision.Instance.TimerSequence);
            }

            // As the shell does, the context carries every send made so far.
            context = context with { RecentSends = decisions.SelectMany(d => d.Commands.OfType<SendMessage>()).Select(s => new RecentSend(s.ScheduledFor, s.Channel, s.Class)).ToList() };
            decision = JourneyInterpreter.Apply(decision.Instance, input, context);
            decisions.Add(decision);
        }

        return new Run(journey, decisions, nightConsent);
    }

    [Property(MaxTest = 400)]
    public bool RandomJourneys_AreValid(int seed) => JourneyValidator.Validate(RandomJourney(new Random(seed))).Errors.Count == 0;

    [Property(MaxTest = 400)]
    public bool NeverTheSameDeliveryTwice(int seed)
    {
        var ids = Drive(seed).Decisions.SelectMany(d => d.Commands.OfType<SendMessage>()).Select(s => s.DeliveryId).ToList();
        return ids.Count == ids.Distinct().Count();
    }

    [Property(MaxTest = 400)]
    public bool NoAdSmsOrKakaoAtNightWithoutNightConsent(int seed)
    {
        var run = Drive(seed);
        return run.Decisions.SelectMany(d => d.Commands.OfType<SendMessage>())
            .Where(s => s.Class == MessageClass.Ad && (s.Channel == ChannelNames.Kakao || (s.Channel == ChannelNames.Sms && !run.NightConsent)))
            .All(s =>
            {
                var local = TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(s.ScheduledFor, Seoul).DateTime);
                return local >= new TimeOnly(8, 0) && local < (s.Channel == ChannelNames.Kakao ? new TimeOnly(20, 50) : new TimeOnly(21, 0));
            });
    }

    [Property(MaxTest = 400)]
    public bool NeverMoreThanTheCap(int seed)
    {
        var sends = Drive(seed, capped: true).Decisions.SelectMany(d => d.Commands.OfType<SendMessage>())
            .Where(s => s.Class != MessageClass.Transactional)
            .Select(s => (s.Channel, Day: DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(s.ScheduledFor, Seoul).DateTime)))
            .ToList();
        var perDayOk = sends.GroupBy(s => s).All(g => g.Count() <= 1);
        var perWeekOk = sends.GroupBy(s => (s.Channel, Week: s.Day.AddDays(-(((int)s.Day.DayOfWeek + 6) % 7)))).All(g => g.Count() <= 3);
        return perDayOk && perWeekOk;
    }

    [Property(MaxTest = 400)]
    public bool EveryInstanceEndsOrWaitsOnSomething(int seed) =>
        Drive(seed).Decisions.All(d => d.Instance.IsEnded || d.Instance.WaitingUntil is not null);

    [Property(MaxTest = 400)]
    public bool HeldOutCustomersAreNeverMessaged(int seed)
    {
        var decisions = Drive(seed).Decisions;
        var heldAt = decisions.FindIndex(d => d.Instance.HeldOut);
        return heldAt < 0 || decisions.Skip(heldAt + 1).All(d => !d.Commands.OfType<SendMessage>().Any());
    }

    [Property(MaxTest = 200)]
    public bool ReplayingTheSameInputsGivesTheSameDecisions(int seed)
    {
        var first = Drive(seed).Decisions.SelectMany(d => d.Commands).ToList();
        var second = Drive(seed).Decisions.SelectMany(d => d.Commands).ToList();
        return first.SequenceEqual(second);
    }
}
