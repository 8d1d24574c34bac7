using System.Text.Json;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;

namespace Nudge.App.Journeys;

/// <summary>What the context activity reads the customer for: who, in which journey (not the whole instance: activity inputs are kept in the history).</summary>
public sealed record ContextRequest(CustomerKey Customer, string JourneyId);

/// <summary>
/// A run's input: the instance as its row holds it, and news that came before the run existed (the first thing it
/// decides on). Runs started before this record existed have the bare instance as their input; both read.
/// </summary>
public sealed record JourneyRun(JourneyInstance Instance, JourneyNews? Pending = null);

/// <summary>What one carry-out activity does: save the instance's new state in its row and enqueue the decision's sends.</summary>
public sealed record CarryOutOrder(JourneyInstance Instance, IReadOnlyList<SendMessage> Sends);

/// <summary>
/// Each journey instance is one durable orchestration. It replays the pure <see cref="JourneyInterpreter"/>, which
/// decides everything; the orchestration only waits and carries out: a wait is a durable timer raced with the events
/// the instance is told about (goals, wait-for-event), a decision's sends and its row are one activity, and when a
/// timer fires an activity reads the customer as they are now. Its input is the instance as its first decision (made
/// and carried out by <see cref="JourneyStarter"/>) or its previous generation left it. Every input and output is
/// JSON text in Nudge's own format, so the Functions host's serializer and the local one read them alike.
/// Names are wire contracts: running orchestrations are found by them after an upgrade.
/// </summary>
public sealed class JourneyOrchestration(VirtualClock clock)
{
    public const string Name = "Journey";
    public const string NewsEvent = "news";
    public const string ContextActivity = "JourneyContext";
    public const string CarryOutActivity = "JourneyCarryOut";

    /// <summary>Rounds an instance goes through before it continues as new, so its history stays small however long it lives.</summary>
    public const int RoundsPerGeneration = 16;

    /// <summary>The longest single durable timer: a longer wait is several (the storage queues hold a message at most 7 days).</summary>
    public static readonly TimeSpan LongestTimer = TimeSpan.FromDays(6);

    [Function(Name)]
    public async Task<string> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var (instance, pending) = ReadRun(context.GetInput<string>());
        for (var round = 1; ; round++)
        {
            if (instance.IsEnded || instance.WaitingUntil is not { } until)
            {
                return instance.EndReason ?? instance.Status.ToString();
            }

            if (round > RoundsPerGeneration)
            {
                context.ContinueAsNew(Write(new JourneyRun(instance)));
                return "continued";
            }

            JourneyDecision decision;
            if (pending is { } early)
            {
                pending = null;
                decision = JourneyInterpreter.Apply(instance, early.At(Now(context)), early.Context);
            }
            else if (await NextAsync(context, until) is { } told)
            {
                decision = JourneyInterpreter.Apply(instance, told.At(Now(context)), told.Context);
            }
            else
            {
                var now = Read<InstanceContext>(await context.CallActivityAsync<string>(ContextActivity, Write(new ContextRequest(instance.Customer, instance.Definition.Id))));
                var at = Max(Now(context), until);
                decision = JourneyInterpreter.Apply(instance, now.Archived ? new JourneyArchived(at) : new TimerFired(at, instance.TimerSequence), now.Customer);
            }

            if (!decision.Changed)
            {
                continue;
            }

            if (!await context.CallActivityAsync<bool>(CarryOutActivity, Write(new CarryOutOrder(decision.Instance, JourneyStarter.SendsOf(decision)))))
            {
                return "erased";
            }

            instance = decision.Instance;
        }
    }

    /// <summary>The news the instance is told before its timer fires, or null when the timer fires first.</summary>
    private async Task<JourneyNews?> NextAsync(TaskOrchestrationContext context, DateTimeOffset until)
    {
        using var other = new CancellationTokenSource();
        var timer = WaitUntilAsync(context, until, other.Token);
        var news = context.WaitForExternalEvent<string>(NewsEvent, other.Token);
        var first = await Task.WhenAny(timer, news);
        other.Cancel();
        return first == news ? Read<JourneyNews>(await news) : null;
    }

    /// <summary>A run's input: a <see cref="JourneyRun"/>, or the bare instance runs started before it had.</summary>
    public static JourneyRun ReadRun(string? input)
    {
        using var document = JsonDocument.Parse(input ?? throw new InvalidDataException("No journey run."));
        return document.RootElement.TryGetProperty("instance", out _) ? Read<JourneyRun>(input) : new JourneyRun(Read<JourneyInstance>(input));
    }

    /// <summary>Virtual time as of the orchestration's own replay-safe clock.</summary>
    private DateTimeOffset Now(TaskOrchestrationContext context) => clock.Anchor.VirtualAt(new DateTimeOffset(context.CurrentUtcDateTime, TimeSpan.Zero));

    /// <summary>
    /// One durable timer to the due time, or several of at most <see cref="LongestTimer"/>. The segments are counted
    /// from when the wait began, not from the clock after each timer: the backend may deliver a timer a moment before
    /// its time, and a loop on the clock would then set a new timer for the remaining moment, again and again.
    /// </summary>
    private async Task WaitUntilAsync(TaskOrchestrationContext context, DateTimeOffset virtualDue, CancellationToken cancellationToken)
    {
        var due = clock.Anchor.RealAtVirtual(virtualDue).UtcDateTime;
        var at = context.CurrentUtcDateTime;
        while (due - at > LongestTimer)
        {
            at += LongestTimer;
            await context.CreateTimer(at, cancellationToken);
        }

        await context.CreateTimer(due, cancellationToken);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, NudgeJson.Options);

    public static T Read<T>(string? text) =>
        JsonSerializer.Deserialize<T>(text ?? throw new InvalidDataException($"No {typeof(T).Name}."), NudgeJson.Options)
        ?? throw new InvalidDataException($"Empty {typeof(T).Name}.");
}

/// <summary>The journey orchestration's activities: thin adapters over <see cref="InstanceEffects"/>.</summary>
public sealed class JourneyActivities(InstanceEffects effects)
{
    [Function(JourneyOrchestration.ContextActivity)]
    public async Task<string> ContextAsync([ActivityTrigger] string request, CancellationToken cancellationToken)
    {
        var (customer, journeyId) = JourneyOrchestration.Read<ContextRequest>(request);
        return JourneyOrchestration.Write(await effects.ContextAsync(customer, journeyId, cancellationToken));
    }

    [Function(JourneyOrchestration.CarryOutActivity)]
    public Task<bool> CarryOutAsync([ActivityTrigger] string order, CancellationToken cancellationToken)
    {
        var carryOut = JourneyOrchestration.Read<CarryOutOrder>(order);
        return effects.CarryOutAsync(carryOut.Instance, carryOut.Sends, rowSaved: false, cancellationToken);
    }
}
