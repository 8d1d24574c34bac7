using System.Text.Json;
using System.Text.Json.Serialization;
using Nudge.Core.Customers;

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
/// What the interpreter may know of the customer when it decides: their time zone, night consent, the latest time of
/// each event type they had (goals and waits judged from the profile, <see cref="Goals"/>), facts for conditions
/// (<c>profile.*</c>, <c>segment.*</c>), the shop's cross-journey rules and the customer's recent sends (for frequency caps).
/// Plain data, so a runtime can carry it in an orchestration's input or an event.
/// </summary>
public sealed record CustomerContext(
    [property: JsonConverter(typeof(TimeZoneIdJsonConverter))] TimeZoneInfo TimeZone, bool NightConsent, EventTimes? LatestEvents = null,
    IReadOnlyDictionary<string, string>? Facts = null, CrossJourneyRules? Rules = null, IReadOnlyList<RecentSend>? RecentSends = null)
{
    [JsonIgnore]
    public IReadOnlyDictionary<string, string> CustomerFacts => Facts ?? new Dictionary<string, string>();

    [JsonIgnore]
    public EventTimes LastEvents => LatestEvents ?? EventTimes.None;

    [JsonIgnore]
    public CrossJourneyRules CrossJourney => Rules ?? CrossJourneyRules.None;

    [JsonIgnore]
    public IReadOnlyList<RecentSend> Sends => RecentSends ?? [];
}

/// <summary>A time zone as its IANA id.</summary>
public sealed class TimeZoneIdJsonConverter : JsonConverter<TimeZoneInfo>
{
    public override TimeZoneInfo Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        TimeZoneInfo.FindSystemTimeZoneById(reader.GetString() ?? throw new JsonException("A time zone id is required."));

    public override void Write(Utf8JsonWriter writer, TimeZoneInfo value, JsonSerializerOptions options) => writer.WriteStringValue(value.Id);
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
