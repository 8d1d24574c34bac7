using System.Text.Json.Serialization;

namespace Nudge.Core.Journeys;

/// <summary>One thing that happens to an instance. <see cref="At"/> is the only notion of time the interpreter has.</summary>
public abstract record JourneyInput(DateTimeOffset At);

public sealed record TimerFired(DateTimeOffset At, int Sequence) : JourneyInput(At);

public sealed record EventArrived(DateTimeOffset At, string EventType, string EventId) : JourneyInput(At);

/// <summary>What the interpreter may know of the customer when it decides: their time zone and night consent.</summary>
public sealed record CustomerContext(TimeZoneInfo TimeZone, bool NightConsent, bool GoalReachedBeforeStart);

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
