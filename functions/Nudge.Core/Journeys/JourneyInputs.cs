using System.Text.Json.Serialization;

namespace Nudge.Core.Journeys;

/// <summary>One thing that happens to an instance. <see cref="At"/> is the only notion of time the interpreter has.</summary>
public abstract record JourneyInput(DateTimeOffset At);

public sealed record TimerFired(DateTimeOffset At, int Sequence) : JourneyInput(At);

/// <summary>The marketer archived the journey: running instances end at their next touch.</summary>
public sealed record JourneyArchived(DateTimeOffset At) : JourneyInput(At);

/// <summary>An event for the customer, with its business key (e.g. the checkout id) and its facts (<c>event.*</c>).</summary>
public sealed record EventArrived(DateTimeOffset At, string EventType, string EventId, string? BusinessKey = null, IReadOnlyDictionary<string, string>? Facts = null) : JourneyInput(At)
{
    public IReadOnlyDictionary<string, string> EventFacts => Facts ?? Empty;

    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();
}

/// <summary>
/// What the interpreter may know of the customer when it decides: their time zone, night consent, whether the
/// goal was reached before the start, facts for conditions (<c>profile.*</c>, <c>segment.*</c>), the shop's
/// cross-journey rules and the customer's recent sends (for frequency caps).
/// </summary>
public sealed record CustomerContext(
    TimeZoneInfo TimeZone, bool NightConsent, bool GoalReachedBeforeStart, IReadOnlyDictionary<string, string>? Facts = null,
    CrossJourneyRules? Rules = null, IReadOnlyList<RecentSend>? RecentSends = null)
{
    public IReadOnlyDictionary<string, string> CustomerFacts => Facts ?? new Dictionary<string, string>();

    /// <summary>
    /// The profile shows an order after this instance's entry that the instance never received (it arrived while the
    /// instance was being started): a journey that an order ends ends at its next step.
    /// </summary>
    public bool OrderedSinceEntry { get; init; }

    /// <summary>
    /// The profile shows the event the instance's first wait awaits after the entry, and the instance never received
    /// it (it arrived while the instance was being started): the wait takes its event branch instead of timing out.
    /// </summary>
    public bool AwaitedSinceEntry { get; init; }

    public CrossJourneyRules CrossJourney => Rules ?? CrossJourneyRules.None;

    public IReadOnlyList<RecentSend> Sends => RecentSends ?? [];
}

/// <summary>A side effect the durable shell must carry out. Ids are deterministic so carrying one out twice is harmless.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SendMessage), "send")]
[JsonDerivedType(typeof(ScheduleTimer), "timer")]
public abstract record JourneyCommand;

public sealed record SendMessage(string DeliveryId, int StepIndex, string Channel, string Template, Delivery.MessageClass Class, DateTimeOffset ScheduledFor) : JourneyCommand;

public sealed record ScheduleTimer(int Sequence, DateTimeOffset DueAt) : JourneyCommand;

/// <summary>The interpreter's answer: the new state and what to do. <see cref="Changed"/> is false when the input was irrelevant.</summary>
public sealed record JourneyDecision(JourneyInstance Instance, IReadOnlyList<JourneyCommand> Commands, bool Changed)
{
    public static JourneyDecision Unchanged(JourneyInstance instance) => new(instance, [], false);
}
