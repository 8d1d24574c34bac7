using System.Text.Json.Serialization;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>
/// A journey as data. Instances snapshot the definition they started with, so publishing a new version never
/// changes a running instance. Property and discriminator names are wire contracts.
/// </summary>
public sealed record JourneyDefinition
{
    public required string Id { get; init; }
    public required int Version { get; init; }

    /// <summary>The event type that starts an instance.</summary>
    public required string EntryEvent { get; init; }

    /// <summary>Goals: any of these event types ends the instance at once, whatever step it is at.</summary>
    public IReadOnlyList<string> ExitOn { get; init; } = [];

    public required IReadOnlyList<JourneyStep> Steps { get; init; }
}

[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(SendStep), "send")]
[JsonDerivedType(typeof(WaitStep), "wait")]
public abstract record JourneyStep;

public sealed record SendStep(string Channel, string Template, MessageClass Class) : JourneyStep;

public sealed record WaitStep(TimeSpan Duration) : JourneyStep;
