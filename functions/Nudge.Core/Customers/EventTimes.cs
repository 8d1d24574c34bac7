using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nudge.Core.Customers;

/// <summary>
/// The latest time of each event type. Equal by content, so two profiles folded from the same events in any order
/// are equal (and a repeated event leaves the profile equal, which spares its write).
/// </summary>
[JsonConverter(typeof(EventTimesJsonConverter))]
public sealed class EventTimes : IEquatable<EventTimes>
{
    private readonly ImmutableSortedDictionary<string, DateTimeOffset> _times;

    private EventTimes(ImmutableSortedDictionary<string, DateTimeOffset> times) => _times = times;

    public static EventTimes None { get; } = new(ImmutableSortedDictionary.Create<string, DateTimeOffset>(StringComparer.Ordinal));

    public IReadOnlyDictionary<string, DateTimeOffset> ByType => _times;

    public static EventTimes From(IEnumerable<KeyValuePair<string, DateTimeOffset>> times) =>
        times.Aggregate(None, (all, time) => all.With(time.Key, time.Value));

    public bool TryGet(string eventType, out DateTimeOffset at) => _times.TryGetValue(eventType, out at);

    /// <summary>These times, or a copy with <paramref name="eventType"/> at <paramref name="at"/> when that is later.</summary>
    public EventTimes With(string eventType, DateTimeOffset at) =>
        TryGet(eventType, out var known) && known >= at ? this : new EventTimes(_times.SetItem(eventType, at));

    public bool Equals(EventTimes? other) =>
        other is not null && _times.Count == other._times.Count && _times.All(time => other.TryGet(time.Key, out var at) && at == time.Value);

    public override bool Equals(object? obj) => Equals(obj as EventTimes);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var (eventType, at) in _times)
        {
            hash.Add(eventType, StringComparer.Ordinal);
            hash.Add(at);
        }

        return hash.ToHashCode();
    }
}

/// <summary>Event times as a JSON object: <c>{"order.placed": "2026-11-24T01:00:00+00:00", …}</c>.</summary>
public sealed class EventTimesJsonConverter : JsonConverter<EventTimes>
{
    public override EventTimes Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        EventTimes.From(JsonSerializer.Deserialize<Dictionary<string, DateTimeOffset>>(ref reader, options) ?? []);

    public override void Write(Utf8JsonWriter writer, EventTimes value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(writer, value.ByType, options);
}
