using Nudge.Core.Compliance;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Simulation;

/// <summary>
/// A synthetic population and its behaviour. Rates are per customer per day; consent rates are shares of
/// customers. Everything is drawn from <see cref="Seed"/>, so a scenario always gives the same result.
/// </summary>
public sealed record SimulationScenario
{
    public int Customers { get; init; } = 10_000;
    public int Days { get; init; } = 30;
    public int Seed { get; init; } = 1;
    public DateTimeOffset Start { get; init; } = new(2026, 1, 5, 0, 0, 0, TimeSpan.Zero);
    public double EmailConsentRate { get; init; } = 0.8;
    public double SmsConsentRate { get; init; } = 0.6;
    public double NightConsentRate { get; init; } = 0.1;
    public double HasEmailRate { get; init; } = 0.95;
    public double HasPhoneRate { get; init; } = 0.9;

    /// <summary>Events per customer per day by type (e.g. <c>order.placed</c>: 0.05), beyond the entry event on day 0.</summary>
    public IReadOnlyDictionary<string, double> DailyEventRates { get; init; } = new Dictionary<string, double> { ["order.placed"] = 0.03 };

    /// <summary>Facts every synthetic event carries (e.g. <c>event.balance</c> for a points journey).</summary>
    public IReadOnlyDictionary<string, string> EventFacts { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Customers is < 1 or > 5_000_000) errors.Add("customers must be from 1 to 5,000,000");
        if (Days is < 1 or > 730) errors.Add("days must be from 1 to 730");
        foreach (var (name, rate) in new[] { ("emailConsentRate", EmailConsentRate), ("smsConsentRate", SmsConsentRate), ("nightConsentRate", NightConsentRate), ("hasEmailRate", HasEmailRate), ("hasPhoneRate", HasPhoneRate) })
        {
            if (rate is < 0 or > 1 || double.IsNaN(rate)) errors.Add($"{name} must be from 0 to 1");
        }

        foreach (var (type, rate) in DailyEventRates)
        {
            if (rate is < 0 or > 24 || double.IsNaN(rate)) errors.Add($"dailyEventRates.{type} must be from 0 to 24");
        }

        return errors;
    }
}

/// <summary>What happened on one virtual day.</summary>
public sealed record SimulationDay(int Day)
{
    public Dictionary<string, int> Sent { get; } = ChannelNames.All.ToDictionary(c => c, _ => 0);
    public int Entered { get; set; }
    public int Deferred { get; set; }

    /// <summary>Sends held back, switched or skipped by a frequency cap.</summary>
    public int Capped { get; set; }

    public int Suppressed { get; set; }
    public int Converted { get; set; }

    /// <summary>Conversions in the control group: the baseline the journey's lift is measured against.</summary>
    public int ConvertedHeldOut { get; set; }

    public int HeldOut { get; set; }
    public int Completed { get; set; }
    public int Exited { get; set; }
}

public sealed record SimulationResult(string JourneyId, int Version, int Customers, IReadOnlyList<SimulationDay> Days, long Transitions, long StateBytes)
{
    public int TotalSent => Days.Sum(d => d.Sent.Values.Sum());
    public int TotalConverted => Days.Sum(d => d.Converted);
}

/// <summary>
/// Replays a journey over a synthetic population in virtual time with the production interpreter: what would go
/// out per day and channel, and what would be deferred by quiet hours, suppressed for consent or reachability,
/// converted or held out — before anything is sent. Customers are independent, so they run in parallel.
/// </summary>
public static class JourneySimulator
{
    /// <param name="rules">The shop's cross-journey rules; caps count this journey's own sends (other journeys are not simulated).</param>
    /// <param name="population">Stored customers to use instead of synthetic ones (their contact and consent; behaviour stays synthetic).</param>
    public static SimulationResult Run(
        JourneyDefinition journey, SimulationScenario scenario, TimeZoneInfo zone, bool measureState = false,
        CrossJourneyRules? rules = null, IReadOnlyList<CustomerProfile>? population = null)
    {
        if (population is not null)
        {
            scenario = scenario with { Customers = population.Count };
        }

        var days = Enumerable.Range(0, scenario.Days + 1).Select(d => new SimulationDay(d)).ToArray();
        long transitions = 0, stateBytes = 0;
        var partitions = Math.Max(1, Math.Min(Environment.ProcessorCount, scenario.Customers / 1000));
        var partials = new (SimulationDay[] Days, long Transitions, long Bytes)[partitions];
        Parallel.For(0, partitions, p =>
        {
            var local = Enumerable.Range(0, days.Length).Select(d => new SimulationDay(d)).ToArray();
            long localTransitions = 0, localBytes = 0;
            for (var c = p; c < scenario.Customers; c += partitions)
            {
                localTransitions += RunCustomer(journey, scenario, zone, c, local, measureState ? b => localBytes += b : null, rules, population?[c]);
            }

            partials[p] = (local, localTransitions, localBytes);
        });

        foreach (var (partial, t, b) in partials)
        {
            transitions += t;
            stateBytes += b;
            for (var d = 0; d < days.Length; d++)
            {
                Merge(days[d], partial[d]);
            }
        }

        return new SimulationResult(journey.Id, journey.Version, scenario.Customers, days, transitions, measureState ? stateBytes / Math.Max(1, scenario.Customers) : 0);
    }

    private static long RunCustomer(
        JourneyDefinition journey, SimulationScenario scenario, TimeZoneInfo zone, int index, SimulationDay[] days, Action<long>? measure,
        CrossJourneyRules? rules, CustomerProfile? stored)
    {
        var random = new Random(HashCode.Combine(scenario.Seed, index));
        var customer = stored?.Key ?? new CustomerKey("sim", index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var synthetic = new CustomerProfile
        {
            Key = customer,
            Email = random.NextDouble() < scenario.HasEmailRate ? "x" : null,
            Phone = random.NextDouble() < scenario.HasPhoneRate ? "x" : null,
            Consent = new MarketingConsent(random.NextDouble() < scenario.EmailConsentRate, random.NextDouble() < scenario.SmsConsentRate, random.NextDouble() < scenario.NightConsentRate),
        };
        var profile = stored ?? synthetic;
        if (stored?.TimeZone is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var own))
        {
            zone = own;
        }

        var sent = new List<RecentSend>();
        var context = new CustomerContext(zone, profile.Consent.NightAds, null, Pipeline.CustomerFacts.OfProfile(profile), rules, sent);
        var horizon = scenario.Start.AddDays(scenario.Days);
        var entryAt = scenario.Start.AddSeconds(random.Next(86_400));
        var timeline = Timeline(scenario, random, entryAt, horizon);

        var decision = JourneyInterpreter.Start(journey, customer, entryAt, context, new EntryTrigger("sim-entry", "k", scenario.EventFacts));
        long transitions = 1;
        Count(decision, 0, entryAt, days, scenario, profile, sent);
        days[Day(scenario, entryAt)].Entered++;
        var next = 0;
        while (!decision.Instance.IsEnded && transitions < 10_000)
        {
            var timerAt = decision.Instance.WaitingUntil;
            var eventAt = next < timeline.Count ? timeline[next].At : (DateTimeOffset?)null;
            JourneyInput input;
            if (eventAt is { } e && (timerAt is null || e < timerAt))
            {
                input = new EventArrived(e, timeline[next].Type, $"sim-{next}", "k", scenario.EventFacts);
                next++;
            }
            else if (timerAt is { } t && t < horizon)
            {
                input = new TimerFired(t, decision.Instance.TimerSequence);
            }
            else
            {
                break;
            }

            var historyBefore = decision.Instance.History.Count;
            decision = JourneyInterpreter.Apply(decision.Instance, input, context);
            transitions++;
            Count(decision, historyBefore, input.At, days, scenario, profile, sent);
        }

        measure?.Invoke(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(decision.Instance, NudgeJson.Options).Length);
        return transitions;
    }

    private static List<(DateTimeOffset At, string Type)> Timeline(SimulationScenario scenario, Random random, DateTimeOffset from, DateTimeOffset to)
    {
        var events = new List<(DateTimeOffset, string)>();
        foreach (var (type, rate) in scenario.DailyEventRates)
        {
            // A Poisson process: exponential gaps with the daily rate.
            var at = from;
            while (rate > 0)
            {
                at += TimeSpan.FromDays(-Math.Log(1 - random.NextDouble()) / rate);
                if (at >= to)
                {
                    break;
                }

                events.Add((at, type));
            }
        }

        events.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return events;
    }

    private static void Count(JourneyDecision decision, int historyBefore, DateTimeOffset at, SimulationDay[] days, SimulationScenario scenario, CustomerProfile profile, List<RecentSend> sent)
    {
        var day = days[Day(scenario, at)];
        foreach (var send in decision.Commands.OfType<SendMessage>())
        {
            if (SendPolicy.Evaluate(profile, send.Channel, send.Class, send.ScheduledFor).Allowed)
            {
                days[Day(scenario, send.ScheduledFor)].Sent[send.Channel]++;
                sent.Add(new RecentSend(send.ScheduledFor, send.Channel, send.Class));
            }
            else
            {
                day.Suppressed++;
            }
        }

        var instance = decision.Instance;
        var added = decision.Changed ? Math.Max(0, instance.History.Count - historyBefore) : 0;
        foreach (var entry in instance.History.Skip(instance.History.Count - added))
        {
            if (entry.What.StartsWith("quiet hours", StringComparison.Ordinal)) day.Deferred++;
            else if (entry.What.StartsWith("frequency cap", StringComparison.Ordinal)) day.Capped++;
            else if (entry.What.StartsWith("held out", StringComparison.Ordinal)) day.HeldOut++;
        }

        if (decision.Changed && instance.IsEnded)
        {
            if (instance.Converted && instance.HeldOut) day.ConvertedHeldOut++;
            else if (instance.Converted) day.Converted++;
            else if (instance.Status == InstanceStatus.Completed) day.Completed++;
            else day.Exited++;
        }
    }

    private static int Day(SimulationScenario scenario, DateTimeOffset at) => Math.Clamp((int)(at - scenario.Start).TotalDays, 0, scenario.Days);

    private static void Merge(SimulationDay into, SimulationDay from)
    {
        foreach (var (channel, count) in from.Sent)
        {
            into.Sent[channel] += count;
        }

        into.Entered += from.Entered;
        into.Deferred += from.Deferred;
        into.Capped += from.Capped;
        into.Suppressed += from.Suppressed;
        into.Converted += from.Converted;
        into.ConvertedHeldOut += from.ConvertedHeldOut;
        into.HeldOut += from.HeldOut;
        into.Completed += from.Completed;
        into.Exited += from.Exited;
    }
}
