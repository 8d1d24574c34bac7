using System.Text.Json.Serialization;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>
/// A journey as data (schema version 1). Instances snapshot the definition they started with, so publishing a
/// new version never changes a running instance. Property names and step/policy names are wire contracts.
/// </summary>
public sealed record JourneyDefinition
{
    public required string Id { get; init; }
    /// <summary>Assigned when a draft is saved; 0 in a definition that was never saved.</summary>
    public int Version { get; init; }
    public string? Name { get; init; }

    /// <summary>Higher wins when cross-journey rules must choose.</summary>
    public int Priority { get; init; }

    public required JourneyEntry Entry { get; init; }
    public ReentryPolicy Reentry { get; init; } = ReentryPolicy.Once;

    /// <summary>Goals: any matching event ends the instance at once, whatever step it is at, and counts as a conversion.</summary>
    public IReadOnlyList<ExitRule> ExitOn { get; init; } = [];

    /// <summary>How long a holdout customer is watched for a goal before their instance ends.</summary>
    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan ConversionWindow { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How long after a message or a click a goal counts as that message's conversion (results).</summary>
    public AttributionWindows Attribution { get; init; } = AttributionWindows.Default;

    /// <summary>Steps in order; a step without <c>next</c> goes to the one after it, the last one completes.</summary>
    public required IReadOnlyList<JourneyStep> Steps { get; init; }

    /// <summary>A journey that sends ads counts against the cap on concurrent marketing journeys.</summary>
    [JsonIgnore]
    public bool IsMarketing => Steps.OfType<SendStep>().Any(s => s.Class == MessageClass.Ad);

    public int IndexOf(string stepId)
    {
        for (var i = 0; i < Steps.Count; i++)
        {
            if (Steps[i].Id == stepId)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>
/// A goal is a message's conversion when it happens within <see cref="AfterClick"/> of a click on it or
/// <see cref="AfterDelivery"/> of its sending; a held-out customer's within the journey's conversion window after entry.
/// </summary>
public sealed record AttributionWindows
{
    public static AttributionWindows Default { get; } = new();

    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan AfterClick { get; init; } = TimeSpan.FromDays(3);

    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan AfterDelivery { get; init; } = TimeSpan.FromDays(1);
}

/// <summary>What starts an instance: an event (optionally filtered), entering a segment, or a schedule.</summary>
public sealed record JourneyEntry
{
    public string? Event { get; init; }
    public Condition? Filter { get; init; }
    public string? Segment { get; init; }

    /// <summary>NCRONTAB with seconds, evaluated in the shop's time zone.</summary>
    public string? Schedule { get; init; }

    /// <summary>Event property that keys an instance (e.g. <c>checkoutId</c>): one abandoned-checkout journey per cart.</summary>
    public string? BusinessKey { get; init; }

    public static JourneyEntry OnEvent(string eventType, string? businessKey = null) => new() { Event = eventType, BusinessKey = businessKey };
}

public sealed record ReentryPolicy
{
    public const string OnceEver = "once";
    public const string AfterExit = "afterExit";
    public const string AfterCooldown = "cooldown";
    public const string PerBusinessKey = "perBusinessKey";

    public static ReentryPolicy Once { get; } = new();

    public string Policy { get; init; } = OnceEver;

    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan? Cooldown { get; init; }
}

public sealed record ExitRule
{
    public required string Event { get; init; }

    /// <summary>Only an event with the instance's business key ends it (the order for this cart).</summary>
    public bool MatchBusinessKey { get; init; }

    public Condition? Filter { get; init; }

    public static implicit operator ExitRule(string eventType) => new() { Event = eventType };
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SendStep), "send")]
[JsonDerivedType(typeof(WaitStep), "wait")]
[JsonDerivedType(typeof(WaitUntilTimeStep), "waitUntilTime")]
[JsonDerivedType(typeof(WaitUntilDateStep), "waitUntilDate")]
[JsonDerivedType(typeof(WaitForEventStep), "waitForEvent")]
[JsonDerivedType(typeof(ConditionStep), "condition")]
[JsonDerivedType(typeof(RandomSplitStep), "randomSplit")]
[JsonDerivedType(typeof(HoldoutStep), "holdout")]
[JsonDerivedType(typeof(ExitStep), "exit")]
public abstract record JourneyStep
{
    public required string Id { get; init; }

    /// <summary>The step that follows; null means the next one in the list.</summary>
    public string? Next { get; init; }
}

public sealed record SendStep : JourneyStep
{
    public required string Channel { get; init; }
    public required string Template { get; init; }
    public MessageClass Class { get; init; } = MessageClass.Ad;

    /// <summary>What to do when the channel's frequency cap is reached (transactional messages are exempt).</summary>
    public CapPolicy OnCap { get; init; } = CapPolicy.Skip;

    /// <summary>With <see cref="CapPolicy.Switch"/>: the channel to use instead.</summary>
    public string? SwitchTo { get; init; }

    /// <summary>With <see cref="CapPolicy.Defer"/>: how long the message may wait for the cap to lift before it is skipped.</summary>
    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan DeferFor { get; init; } = TimeSpan.FromDays(2);
}

public sealed record WaitStep : JourneyStep
{
    [JsonConverter(typeof(IsoDurationConverter))]
    public required TimeSpan Duration { get; init; }
}

/// <summary>Waits until a local time of day (optionally on given weekdays) in the customer's time zone.</summary>
public sealed record WaitUntilTimeStep : JourneyStep
{
    /// <summary>"HH:mm".</summary>
    public required string LocalTime { get; init; }

    /// <summary>"mon".."sun"; empty means any day.</summary>
    public IReadOnlyList<string> Weekdays { get; init; } = [];
}

/// <summary>Waits until a date held in a customer fact (e.g. <c>profile.birthday</c>), shifted by an offset.</summary>
public sealed record WaitUntilDateStep : JourneyStep
{
    public required string Fact { get; init; }

    [JsonConverter(typeof(IsoDurationConverter))]
    public TimeSpan Offset { get; init; }

    /// <summary>Where to go if the fact is missing or not a date; null ends the instance.</summary>
    public string? OnMissing { get; init; }
}

public sealed record WaitForEventStep : JourneyStep
{
    public required string Event { get; init; }

    [JsonConverter(typeof(IsoDurationConverter))]
    public required TimeSpan Timeout { get; init; }

    public bool MatchBusinessKey { get; init; }
    public Condition? Filter { get; init; }

    /// <summary>An event (e.g. <c>cart.updated</c>) that restarts the timeout.</summary>
    public string? ResetOn { get; init; }

    public required string OnEvent { get; init; }
    public required string OnTimeout { get; init; }
}

public sealed record ConditionStep : JourneyStep
{
    public required Condition Condition { get; init; }
    public required string Then { get; init; }
    public required string Else { get; init; }
}

public sealed record RandomSplitStep : JourneyStep
{
    public required IReadOnlyList<SplitBranch> Branches { get; init; }
}

public sealed record SplitBranch(string Name, int Weight, string Next);

/// <summary>A deterministic share of customers is never messaged but still watched for the goal (the control group).</summary>
public sealed record HoldoutStep : JourneyStep
{
    public required int Percent { get; init; }
}

public sealed record ExitStep : JourneyStep;
