using System.Text.Json.Serialization;
using Nudge.Core.Customers;

namespace Nudge.Core.Journeys;

[JsonConverter(typeof(JsonStringEnumConverter<InstanceStatus>))]
public enum InstanceStatus
{
    [JsonStringEnumMemberName("active")] Active,
    [JsonStringEnumMemberName("completed")] Completed,
    [JsonStringEnumMemberName("exited")] Exited,
}

/// <summary>The whole state of one customer's run through one journey: everything the interpreter needs, nothing else.</summary>
public sealed record JourneyInstance
{
    public required string InstanceId { get; init; }
    public required CustomerKey Customer { get; init; }
    public required JourneyDefinition Definition { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public InstanceStatus Status { get; init; } = InstanceStatus.Active;
    public int StepIndex { get; init; }

    /// <summary>Sequence number of the timer the instance waits for; older timers that fire late are ignored.</summary>
    public int TimerSequence { get; init; }

    public DateTimeOffset? WaitingUntil { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? EndReason { get; init; }

    public bool IsEnded => Status != InstanceStatus.Active;
}
