using System.Globalization;
using Nudge.Core.Compliance;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>How an instance entered: the triggering event's id, business key and facts.</summary>
public sealed record EntryTrigger(string? EventId, string? BusinessKey, IReadOnlyDictionary<string, string> Facts)
{
    public static EntryTrigger None { get; } = new(null, null, new Dictionary<string, string>());
}

/// <summary>
/// The pure, total journey interpreter: state + one input → new state + commands. It never reads a clock, does
/// I/O or draws random numbers (splits use a hash of the instance id), so the same inputs always give the same
/// decision — replay-safe, and the simulator runs exactly what production runs.
/// </summary>
public static class JourneyInterpreter
{
    public static string InstanceIdFor(string journeyId, CustomerKey customer, string? businessKey = null, int entry = 1) =>
        $"{journeyId}|{customer}" + (businessKey is null ? "" : $"|{businessKey}") + (entry > 1 ? $"#{entry}" : "");

    /// <summary>Whether a new instance may start in a slot that already holds <paramref name="existing"/>.</summary>
    public static bool MayEnter(JourneyDefinition definition, JourneyInstance? existing, DateTimeOffset at)
    {
        if (existing is null)
        {
            return true;
        }

        return definition.Reentry.Policy switch
        {
            ReentryPolicy.AfterExit => existing.IsEnded,
            ReentryPolicy.AfterCooldown => existing.IsEnded && existing.EndedAt is { } ended && at >= ended + (definition.Reentry.Cooldown ?? TimeSpan.Zero),
            _ => false, // once ever; per business key: the slot already belongs to this key
        };
    }

    /// <summary>
    /// Whether an event of this type can change a running instance of the journey: a goal's event, or the event (or the
    /// reset) a wait-for-event step waits for. Only such events are handed to running instances.
    /// </summary>
    public static bool Awaits(JourneyDefinition definition, string eventType) =>
        definition.ExitOn.Any(r => r.Event == eventType)
        || definition.Steps.OfType<WaitForEventStep>().Any(w => w.Event == eventType || w.ResetOn == eventType);

    /// <summary>Why a journey may not start for this customer now under the shop's cross-journey rules; null if it may.</summary>
    public static string? RefusedEntry(JourneyDefinition definition, CustomerContext context, int activeMarketingJourneys) =>
        definition.IsMarketing ? RefusedMarketingEntry(context.CrossJourney.MaxConcurrentMarketingJourneys, activeMarketingJourneys) : null;

    /// <summary>Why one more marketing journey may not start beside <paramref name="active"/> ones under <paramref name="limit"/> (0: none); null if it may.</summary>
    public static string? RefusedMarketingEntry(int limit, int active) =>
        limit > 0 && active >= limit ? $"already in {active} marketing journeys (cap {limit})" : null;

    public static JourneyDecision Start(JourneyDefinition definition, CustomerKey customer, DateTimeOffset at, CustomerContext context, EntryTrigger? trigger = null, int entry = 1)
    {
        var instance = Entering(definition, customer, at, trigger, entry);
        return Begin(instance, at, context);
    }

    /// <summary>
    /// The instance <see cref="Start"/> would begin with, before its first decision: what a runtime records at once
    /// (so events find it) while the first decision is still to be made.
    /// </summary>
    public static JourneyInstance Entering(JourneyDefinition definition, CustomerKey customer, DateTimeOffset at, EntryTrigger? trigger = null, int entry = 1)
    {
        trigger ??= EntryTrigger.None;
        return new JourneyInstance
        {
            InstanceId = InstanceIdFor(definition.Id, customer, trigger.BusinessKey, entry),
            Customer = customer,
            Definition = definition,
            StartedAt = at,
            Entry = entry,
            BusinessKey = trigger.BusinessKey,
            EntryEventId = trigger.EventId,
            TriggerFacts = trigger.Facts,
            CurrentStep = definition.Steps.Count > 0 ? definition.Steps[0].Id : null,
        }.Log(at, trigger.EventId is null ? "entered" : $"entered on {trigger.EventId}");
    }

    /// <summary>The first decision of an instance <see cref="Entering"/> made: its first steps, or its end if its goal came while it was being started.</summary>
    public static JourneyDecision Begin(JourneyInstance entering, DateTimeOffset at, CustomerContext context)
    {
        if (Goals.SeenSinceEntry(entering, context.LastEvents) is { } goal)
        {
            return Ended(End(entering, InstanceStatus.Exited, at, $"goal reached before start ({goal.Event})"), []);
        }

        return Advance(entering, at, context, []);
    }

    public static JourneyDecision Apply(JourneyInstance instance, JourneyInput input, CustomerContext context)
    {
        if (instance.IsEnded)
        {
            return JourneyDecision.Unchanged(instance);
        }

        return input switch
        {
            EventArrived arrived => OnEvent(instance, arrived, context),
            JourneyArchived archived => Ended(End(instance, InstanceStatus.Exited, archived.At, "journey archived"), []),
            TimerFired fired when fired.Sequence == instance.TimerSequence && instance.WaitingUntil is { } until && fired.At >= until =>
                OnTimer(instance, fired.At, context),
            _ => JourneyDecision.Unchanged(instance),
        };
    }

    private static JourneyDecision OnEvent(JourneyInstance instance, EventArrived arrived, CustomerContext context)
    {
        if (Goals.MetBy(instance, arrived, Facts(instance, context, arrived), context.TimeZone) is not null)
        {
            var converted = instance with { Converted = true };
            return Ended(End(converted, InstanceStatus.Exited, arrived.At, $"goal: {arrived.EventType}"), []);
        }

        if (instance.HeldOut || Current(instance) is not WaitForEventStep wait)
        {
            return JourneyDecision.Unchanged(instance);
        }

        var keyMatches = !wait.MatchBusinessKey || arrived.BusinessKey == instance.BusinessKey;
        if (arrived.EventType == wait.Event && keyMatches && (wait.Filter is null || wait.Filter.Evaluate(Facts(instance, context, arrived), new EvaluationTime(arrived.At, context.TimeZone))))
        {
            var matched = instance.Log(arrived.At, $"{arrived.EventType} arrived") with { WaitingUntil = null, CurrentStep = wait.OnEvent };
            return Advance(matched, arrived.At, context, []);
        }

        if (arrived.EventType == wait.ResetOn && keyMatches)
        {
            var commands = new List<JourneyCommand>();
            var reset = Wait(instance.Log(arrived.At, $"{arrived.EventType} restarted the wait"), arrived.At + wait.Timeout, commands);
            return new JourneyDecision(reset, commands, true);
        }

        return JourneyDecision.Unchanged(instance);
    }

    /// <summary>
    /// The timer of the instance's wait fired. An event handled while the instance was being started never reached it:
    /// what the customer's latest event times show since the entry counts here (a goal, or the event the instance's
    /// first wait awaits), where it can be judged without the event itself (<see cref="Goals"/>).
    /// </summary>
    private static JourneyDecision OnTimer(JourneyInstance waiting, DateTimeOffset at, CustomerContext context)
    {
        var instance = waiting with { WaitingUntil = null };
        if (Goals.SeenSinceEntry(instance, context.LastEvents) is { } goal)
        {
            var converted = instance with { Converted = true };
            return Ended(End(converted, InstanceStatus.Exited, at, $"goal: {goal.Event} (found in the profile)"), []);
        }

        if (instance.HeldOut)
        {
            return Ended(End(instance, InstanceStatus.Completed, at, "holdout: conversion window ended"), []);
        }

        var step = Current(instance);
        var resumed = step switch
        {
            WaitForEventStep wait when AwaitedSinceEntry(waiting, wait, context.LastEvents) => instance.Log(at, $"{wait.Event} found in the profile") with { CurrentStep = wait.OnEvent },
            WaitForEventStep wait => instance.Log(at, "timed out") with { CurrentStep = wait.OnTimeout },
            SendStep => instance, // a send deferred by quiet hours is tried again
            _ => instance with { CurrentStep = NextOf(instance.Definition, step!) },
        };
        return Advance(resumed, at, context, []);
    }

    private static JourneyDecision Advance(JourneyInstance instance, DateTimeOffset at, CustomerContext context, List<JourneyCommand> commands)
    {
        var definition = instance.Definition;
        // Validation forbids cycles without a waiting step; the bound makes the interpreter total even so.
        var budget = (definition.Steps.Count * 2) + 2;
        while (budget-- > 0)
        {
            var step = Current(instance);
            if (step is null)
            {
                return Ended(End(instance, InstanceStatus.Completed, at, "completed"), commands);
            }

            switch (step)
            {
                case SendStep send:
                    var allowedAt = QuietHours.NextAllowed(send.Channel, send.Class, at, context.TimeZone, context.NightConsent);
                    if (allowedAt > at)
                    {
                        return new JourneyDecision(Wait(instance.Log(at, $"quiet hours: {send.Channel} deferred to {allowedAt:O}"), allowedAt, commands), commands, true);
                    }

                    var channel = send.Channel;
                    var sentSoFar = context.Sends.Concat(commands.OfType<SendMessage>().Select(c => new RecentSend(c.ScheduledFor, c.Channel, c.Class)));
                    if (FrequencyCaps.BlockedUntil(context.CrossJourney, channel, send.Class, at, context.TimeZone, sentSoFar) is { } liftsAt)
                    {
                        switch (send.OnCap)
                        {
                            case CapPolicy.Defer when liftsAt <= (instance.CappedSince ?? at) + send.DeferFor:
                                var capped = instance.Log(at, $"frequency cap on {channel}: deferred to {liftsAt:O}") with { CappedSince = instance.CappedSince ?? at };
                                return new JourneyDecision(Wait(capped, liftsAt, commands), commands, true);
                            case CapPolicy.Switch when send.SwitchTo is { } other
                                && QuietHours.NextAllowed(other, send.Class, at, context.TimeZone, context.NightConsent) <= at
                                && FrequencyCaps.BlockedUntil(context.CrossJourney, other, send.Class, at, context.TimeZone, sentSoFar) is null:
                                instance = instance.Log(at, $"frequency cap on {channel}: switched to {other}");
                                channel = other;
                                break;
                            default:
                                instance = instance.Log(at, $"frequency cap on {channel}: skipped") with { CappedSince = null, CurrentStep = NextOf(definition, send) };
                                continue;
                        }
                    }

                    var index = definition.IndexOf(send.Id);
                    var deliveryId = DeliveryId.For(instance.InstanceId, index, instance.Sends);
                    commands.Add(new SendMessage(deliveryId, index, channel, send.Template, send.Class, at));
                    instance = instance.Log(at, $"send {channel} '{send.Template}' ({deliveryId})") with
                    {
                        Sends = instance.Sends + 1,
                        RecentSends = FrequencyCaps.Remember(instance.RecentSends, new RecentSend(at, channel, send.Class)),
                        CappedSince = null,
                        CurrentStep = NextOf(definition, send),
                    };
                    break;

                case WaitStep wait:
                    return WaitingToSend(instance, wait, at, at + wait.Duration, context, commands);

                case WaitUntilTimeStep until:
                    return WaitingToSend(instance, until, at, LocalTimes.Next(at, until.LocalTime, until.Weekdays, context.TimeZone), context, commands);

                case WaitUntilDateStep untilDate:
                    if (!Facts(instance, context, null).TryGetValue(untilDate.Fact, out var text)
                        || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                    {
                        if (untilDate.OnMissing is null)
                        {
                            return Ended(End(instance, InstanceStatus.Exited, at, $"no date in {untilDate.Fact}"), commands);
                        }

                        instance = instance.Log(at, $"no date in {untilDate.Fact}") with { CurrentStep = untilDate.OnMissing };
                        break;
                    }

                    var due = date + untilDate.Offset;
                    if (due > at)
                    {
                        return WaitingToSend(instance, untilDate, at, due, context, commands);
                    }

                    instance = instance with { CurrentStep = NextOf(definition, untilDate) };
                    break;

                case WaitForEventStep waitForEvent:
                    return Waiting(instance, at, at + waitForEvent.Timeout, commands, $"waiting for {waitForEvent.Event}");

                case ConditionStep condition:
                    var holds = condition.Condition.Evaluate(Facts(instance, context, null), new EvaluationTime(at, context.TimeZone));
                    instance = instance.Log(at, holds ? "condition held" : "condition did not hold") with { CurrentStep = holds ? condition.Then : condition.Else };
                    break;

                case RandomSplitStep split:
                    var branch = Pick(split, DeterministicHash.Unit($"{instance.InstanceId}|{split.Id}"));
                    instance = instance.Log(at, $"assigned to branch {branch.Name}") with
                    {
                        CurrentStep = branch.Next,
                        Branches = new Dictionary<string, string>(instance.Branches) { [split.Id] = branch.Name },
                    };
                    break;

                case HoldoutStep holdout:
                    // Keyed on journey and customer, not on the instance, so a customer stays in or out across entries.
                    if (DeterministicHash.Unit($"{definition.Id}|{instance.Customer}|holdout") * 100 < holdout.Percent)
                    {
                        var heldOut = instance.Log(at, "held out (control group)") with { HeldOut = true };
                        return Waiting(heldOut, at, instance.StartedAt + definition.ConversionWindow, commands, "watching for the goal");
                    }

                    instance = instance with { CurrentStep = NextOf(definition, holdout) };
                    break;

                case ExitStep:
                    return Ended(End(instance, InstanceStatus.Exited, at, "exit step"), commands);

                default:
                    throw new InvalidOperationException($"Unknown step type {step.GetType().Name}.");
            }
        }

        return Ended(End(instance, InstanceStatus.Exited, at, "stopped: steps loop without waiting"), commands);
    }

    /// <summary>
    /// A wait whose next step is a send that quiet hours would hold back at the due time wakes when the send is
    /// allowed instead: one timer where there would be two. The send checks again when it comes (consent may change).
    /// </summary>
    private static JourneyDecision WaitingToSend(JourneyInstance instance, JourneyStep wait, DateTimeOffset at, DateTimeOffset due, CustomerContext context, List<JourneyCommand> commands)
    {
        if (NextOf(instance.Definition, wait) is { } nextId && instance.Definition.IndexOf(nextId) is var next and >= 0
            && instance.Definition.Steps[next] is SendStep send
            && QuietHours.NextAllowed(send.Channel, send.Class, due, context.TimeZone, context.NightConsent) is var allowedAt && allowedAt > due)
        {
            return Waiting(instance, at, allowedAt, commands, $"quiet hours for {send.Channel} at {due:O}: waiting");
        }

        return Waiting(instance, at, due, commands);
    }

    private static JourneyDecision Waiting(JourneyInstance instance, DateTimeOffset at, DateTimeOffset until, List<JourneyCommand> commands, string what = "waiting") =>
        new(Wait(instance.Log(at, $"{what} until {until:O}"), until, commands), commands, true);

    private static JourneyInstance Wait(JourneyInstance instance, DateTimeOffset until, List<JourneyCommand> commands)
    {
        var sequence = instance.TimerSequence + 1;
        commands.Add(new ScheduleTimer(sequence, until));
        return instance with { TimerSequence = sequence, WaitingUntil = until };
    }

    private static JourneyDecision Ended(JourneyInstance instance, List<JourneyCommand> commands) => new(instance, commands, true);

    private static JourneyInstance End(JourneyInstance instance, InstanceStatus status, DateTimeOffset at, string reason) =>
        instance.Log(at, reason) with { Status = status, EndedAt = at, EndReason = reason, WaitingUntil = null };

    /// <summary>
    /// Whether the wait the instance began with awaits an event (any, not filtered or keyed: those need the event
    /// itself) that the customer had after the entry: it was handled while the instance was being started. A wait
    /// begun later is reached by every event handled after it began.
    /// </summary>
    private static bool AwaitedSinceEntry(JourneyInstance waiting, WaitForEventStep wait, EventTimes lastEvents) =>
        wait is { Filter: null, MatchBusinessKey: false }
        && waiting.WaitingUntil - wait.Timeout == waiting.StartedAt
        && lastEvents.TryGet(wait.Event, out var last)
        && last > Goals.EnteredAt(waiting);

    /// <summary>The step the instance is at; null once it ran off the end.</summary>
    public static JourneyStep? Current(JourneyInstance instance) =>
        instance.CurrentStep is { } id && instance.Definition.IndexOf(id) is var i and >= 0 ? instance.Definition.Steps[i] : null;

    private static string? NextOf(JourneyDefinition definition, JourneyStep step)
    {
        if (step.Next is not null)
        {
            return step.Next;
        }

        var index = definition.IndexOf(step.Id);
        return index + 1 < definition.Steps.Count ? definition.Steps[index + 1].Id : null;
    }

    private static SplitBranch Pick(RandomSplitStep split, double unit)
    {
        var total = split.Branches.Sum(b => b.Weight);
        var point = unit * total;
        foreach (var branch in split.Branches)
        {
            if (point < branch.Weight)
            {
                return branch;
            }

            point -= branch.Weight;
        }

        return split.Branches[^1];
    }

    /// <summary>Customer facts, the trigger event's facts and (when one arrived) the current event's, the latest winning.</summary>
    private static IReadOnlyDictionary<string, string> Facts(JourneyInstance instance, CustomerContext context, EventArrived? arrived)
    {
        var facts = new Dictionary<string, string>(context.CustomerFacts);
        foreach (var (key, value) in instance.TriggerFacts)
        {
            facts[key] = value;
        }

        if (arrived is not null)
        {
            foreach (var (key, value) in arrived.EventFacts)
            {
                facts[key] = value;
            }
        }

        return facts;
    }
}
