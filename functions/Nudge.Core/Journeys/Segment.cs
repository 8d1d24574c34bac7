namespace Nudge.Core.Journeys;

/// <summary>A named audience: the customers whose facts satisfy the condition. Journeys can start when a customer enters one.</summary>
public sealed record Segment
{
    public required string Id { get; init; }
    public string? Name { get; init; }
    public required Condition Condition { get; init; }

    /// <summary>The fact a segment adds for conditions elsewhere: <c>segment.&lt;id&gt;</c> = "true" / "false".</summary>
    public string Fact => $"segment.{Id}";
}
