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

/// <summary>One line of an instance's explanation: what happened at which step and why.</summary>
public sealed record HistoryEntry(DateTimeOffset At, string? Step, string What);

/// <summary>The whole state of one customer's run through one journey: everything the interpreter needs, nothing else.</summary>
public sealed record JourneyInstance
{
    public const int MaxHistory = 50;

    public required string InstanceId { get; init; }
    public required CustomerKey Customer { get; init; }
    public required JourneyDefinition Definition { get; init; }
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>1 for the first entry; re-entry policies start later instances with a higher number.</summary>
    public int Entry { get; init; } = 1;

    public string? BusinessKey { get; init; }

    /// <summary>The event that started this instance; it is not delivered to the instance again.</summary>
    public string? EntryEventId { get; init; }

    public InstanceStatus Status { get; init; } = InstanceStatus.Active;

    /// <summary>The step the instance is at (waiting in, or about to run); null once it ran off the end.</summary>
    public string? CurrentStep { get; init; }

    /// <summary>Sequence number of the timer the instance waits for; older timers that fire late are ignored.</summary>
    public int TimerSequence { get; init; }

    public DateTimeOffset? WaitingUntil { get; init; }

    /// <summary>When the current send step was first held back by a frequency cap (its deferral expires from here).</summary>
    public DateTimeOffset? CappedSince { get; init; }

    /// <summary>How many sends this instance has made: the attempt part of each deterministic delivery id.</summary>
    public int Sends { get; init; }

    /// <summary>
    /// This instance's sends that can still count against a frequency cap (the last <see cref="FrequencyCaps.Lookback"/>),
    /// recorded when decided: caps see a message from the moment it is decided, however long it then queues.
    /// </summary>
    public IReadOnlyList<RecentSend> RecentSends { get; init; } = [];

    /// <summary>Random-split step id → branch name the customer was assigned to.</summary>
    public IReadOnlyDictionary<string, string> Branches { get; init; } = new Dictionary<string, string>();

    /// <summary>In the control group: never messaged, still watched for the goal until the conversion window ends.</summary>
    public bool HeldOut { get; init; }

    /// <summary>True when a goal (exit rule) ended the instance.</summary>
    public bool Converted { get; init; }

    /// <summary>Facts of the event that started the instance (<c>event.*</c>), for later conditions.</summary>
    public IReadOnlyDictionary<string, string> TriggerFacts { get; init; } = new Dictionary<string, string>();

    public DateTimeOffset? EndedAt { get; init; }
    public string? EndReason { get; init; }
    public IReadOnlyList<HistoryEntry> History { get; init; } = [];

    public bool IsEnded => Status != InstanceStatus.Active;

    /// <summary>The storage slot: one per journey and customer, or per business key.</summary>
    public string Slot => SlotFor(Definition.Id, BusinessKey);

    public static string SlotFor(string journeyId, string? businessKey) => businessKey is null ? journeyId : $"{journeyId}|{businessKey}";

    public JourneyInstance Log(DateTimeOffset at, string what) => this with
    {
        History = History.Count >= MaxHistory
            ? [.. History.Skip(History.Count - MaxHistory + 1), new HistoryEntry(at, CurrentStep, what)]
            : [.. History, new HistoryEntry(at, CurrentStep, what)],
    };
}
