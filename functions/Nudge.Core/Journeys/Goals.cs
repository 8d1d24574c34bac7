using System.Globalization;
using Nudge.Core.Customers;

namespace Nudge.Core.Journeys;

/// <summary>
/// The one place that decides whether an instance reached its goal (<see cref="JourneyDefinition.ExitOn"/>): a goal
/// is its event after the instance's entry event. A rule with a filter or a business-key match is judged only on its
/// event as it arrives, since only the event carries what the rule tests; a rule without either can also be judged
/// from when the customer last had that event, which covers an event handled while the instance was being started
/// (it never reached the instance). An event before the entry is no goal reached: a repeat customer's abandoned
/// checkout is still abandoned. A journey only for customers who never had it says so in its entry filter (the
/// welcome's <c>profile.hasOrdered</c>).
/// </summary>
public static class Goals
{
    /// <summary>The rule the arriving event meets: its type, its business key where the rule asks, its filter over the facts.</summary>
    public static ExitRule? MetBy(JourneyInstance instance, EventArrived arrived, IReadOnlyDictionary<string, string> facts, TimeZoneInfo zone) =>
        instance.Definition.ExitOn.FirstOrDefault(rule => rule.Event == arrived.EventType
            && (!rule.MatchBusinessKey || arrived.BusinessKey == instance.BusinessKey)
            && (rule.Filter is null || rule.Filter.Evaluate(facts, new EvaluationTime(arrived.At, zone))));

    /// <summary>A rule the customer's latest events show met after the instance's entry (at its start, at a timer).</summary>
    public static ExitRule? SeenSinceEntry(JourneyInstance instance, EventTimes lastEvents)
    {
        var entered = EnteredAt(instance);
        return Judged(instance.Definition).FirstOrDefault(rule => lastEvents.TryGet(rule.Event, out var at) && at > entered);
    }

    /// <summary>When the entry event happened (source time), or the start for an entry without one.</summary>
    public static DateTimeOffset EnteredAt(JourneyInstance instance) =>
        instance.TriggerFacts.TryGetValue("event.occurredAt", out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var entered) ? entered : instance.StartedAt;

    private static IEnumerable<ExitRule> Judged(JourneyDefinition definition) =>
        definition.ExitOn.Where(rule => rule.Filter is null && !rule.MatchBusinessKey);
}
