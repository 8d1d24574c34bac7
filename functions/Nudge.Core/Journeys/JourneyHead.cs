using System.Text.Json.Serialization;

namespace Nudge.Core.Journeys;

[JsonConverter(typeof(JsonStringEnumConverter<JourneyStatus>))]
public enum JourneyStatus
{
    /// <summary>Never published; edits go to the draft.</summary>
    [JsonStringEnumMemberName("draft")] Draft,

    /// <summary>The published version takes new entries.</summary>
    [JsonStringEnumMemberName("active")] Active,

    /// <summary>No new entries; running instances continue.</summary>
    [JsonStringEnumMemberName("paused")] Paused,

    /// <summary>No new entries; running instances end at their next step.</summary>
    [JsonStringEnumMemberName("archived")] Archived,
}

/// <summary>A journey's lifecycle: its status, the published version and the draft being edited.</summary>
public sealed record JourneyHead
{
    public required string Id { get; init; }
    public JourneyStatus Status { get; init; } = JourneyStatus.Draft;
    public int? PublishedVersion { get; init; }
    public int LatestVersion { get; init; }
    public JourneyDefinition? Draft { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public bool TakesEntries => Status == JourneyStatus.Active && PublishedVersion is not null;
}
