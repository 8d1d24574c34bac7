using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Results;

/// <summary>
/// The facts each thing that happens implies, each with the id that makes recording it again harmless. One place
/// decides what counts: the handlers only hand over what happened.
/// </summary>
public static class ResultFacts
{
    /// <summary>The entry of an instance whose first decision was made (under the group that decision put it in).</summary>
    public static ResultFact Entered(JourneyInstance instance) =>
        new(ResultFact.IdFor(Measures.Entered, instance.InstanceId), instance.Definition.Id, Measures.Entered, instance.StartedAt) { Group = Groups.Of(instance) };

    /// <summary>
    /// What one later decision implies: joining a group (a split or holdout step after a wait) and frequency caps met
    /// (skipped, deferred or switched: once per instance, step and what was done).
    /// </summary>
    public static IReadOnlyList<ResultFact> OfDecision(JourneyInstance before, JourneyInstance after)
    {
        var facts = new List<ResultFact>();
        var group = Groups.Of(after);
        if (group.Length > 0 && group != Groups.Of(before))
        {
            facts.Add(new ResultFact(ResultFact.IdFor(Measures.Assigned, $"{after.InstanceId}\n{group}"), after.Definition.Id, Measures.Assigned, LastAt(after)) { Group = group });
        }

        foreach (var entry in after.History.Except(before.History))
        {
            if (CapOf(entry.What) is not var (channel, action) || entry.Step is null)
            {
                continue;
            }

            var step = after.Definition.IndexOf(entry.Step);
            facts.Add(new ResultFact(ResultFact.IdFor(Measures.Capped, $"{after.InstanceId}\n{step}\n{action}"), after.Definition.Id, Measures.Capped, entry.At)
            {
                Step = step, Channel = channel, Group = group, Reason = action,
            });
        }

        return facts;
    }

    /// <summary>
    /// What a channel worker's own status change counts: sent (a delivered or bounced row was sent first),
    /// suppressed, failed or unconfirmed, each by its reason. Re-derived from the row when a copy of the message
    /// finds it final, so a count the first attempt did not get to is made then.
    /// </summary>
    public static ResultFact? OfWorkerStatus(DeliveryRecord record, DateTimeOffset at) => record.Status switch
    {
        DeliveryStatus.Sent or DeliveryStatus.Delivered or DeliveryStatus.Bounced => OfDelivery(record, Measures.Sent, record.SentAt ?? at),
        DeliveryStatus.Suppressed => OfDelivery(record, Measures.Suppressed, at, Reasons.Category(record.Reason)),
        DeliveryStatus.Failed => OfDelivery(record, Measures.Failed, at, Reasons.Category(record.Reason)),
        DeliveryStatus.Unconfirmed => OfDelivery(record, Measures.Unconfirmed, at),
        _ => null,
    };

    /// <summary>One measure about one delivery (a report, a click, a deferral, an unsubscribe): counted once per delivery.</summary>
    public static ResultFact OfDelivery(DeliveryRecord record, string measure, DateTimeOffset at, string? reason = null) =>
        new(ResultFact.IdFor(measure, record.DeliveryId), record.JourneyId, measure, at)
        {
            Step = record.StepIndex, Channel = record.Channel, Group = record.Group ?? "", Reason = reason,
        };

    /// <summary>
    /// What a goal event means for one instance of the customer (running or ended): the goal after entry (within the
    /// journey's conversion window) and the conversion — within <see cref="AttributionWindows.AfterClick"/> of a click
    /// or <see cref="AttributionWindows.AfterDelivery"/> of a message of this instance (the latest such touch names
    /// the step), or for a held-out customer within the conversion window after entry. One of each per instance: the
    /// first goal counts, its order's value is the revenue.
    /// </summary>
    /// <param name="touches">The instance's deliveries that went out, each with the times its links were clicked.</param>
    public static IReadOnlyList<ResultFact> OfGoal(JourneyInstance instance, CustomerEvent goal, IReadOnlyList<(DeliveryRecord Delivery, IReadOnlyList<DateTimeOffset> Clicks)> touches)
    {
        var definition = instance.Definition;
        var entered = Goals.EnteredAt(instance);
        var at = goal.OccurredAt;
        if (at < entered || at > entered + definition.ConversionWindow)
        {
            return [];
        }

        var group = Groups.Of(instance);
        // Only an order is revenue: a cart that ends a journey (browse abandonment) is a conversion worth nothing yet.
        var revenue = Events.EventTypes.IsOrder(goal.Type) ? goal.Value : null;
        var facts = new List<ResultFact>
        {
            new(ResultFact.IdFor(Measures.GoalAfterEntry, instance.InstanceId), definition.Id, Measures.GoalAfterEntry, at)
            {
                Group = group, Amount = revenue?.Amount ?? 0, Currency = revenue?.Currency,
            },
        };

        ResultFact Converted(int? step, string? channel) =>
            new(ResultFact.IdFor(Measures.Converted, instance.InstanceId), definition.Id, Measures.Converted, at)
            {
                Step = step, Channel = channel, Group = group, Amount = revenue?.Amount ?? 0, Currency = revenue?.Currency,
            };

        if (instance.HeldOut)
        {
            facts.Add(Converted(null, null));
            return facts;
        }

        var window = definition.Attribution;
        var inWindow = new List<(DeliveryRecord Delivery, DateTimeOffset At)>();
        foreach (var (delivery, clicks) in touches)
        {
            if (delivery.SentAt is not { } sent || delivery.Status is not (DeliveryStatus.Sent or DeliveryStatus.Delivered))
            {
                continue;
            }

            if (sent <= at && at <= sent + window.AfterDelivery)
            {
                inWindow.Add((delivery, sent));
            }

            inWindow.AddRange(clicks.Where(click => click <= at && at <= click + window.AfterClick).Select(click => (delivery, click)));
        }

        var lastTouch = inWindow.OrderByDescending(t => t.At).FirstOrDefault();
        if (lastTouch.Delivery is { } attributed)
        {
            facts.Add(Converted(attributed.StepIndex, attributed.Channel));
        }

        return facts;
    }

    /// <summary>Whether a delivery is one of this instance's sends (its id is minted from the instance, step and send count).</summary>
    public static bool IsOf(JourneyInstance instance, DeliveryRecord delivery)
    {
        if (delivery.JourneyId != instance.Definition.Id)
        {
            return false;
        }

        for (var attempt = 0; attempt <= instance.Sends; attempt++)
        {
            if (DeliveryId.For(instance.InstanceId, delivery.StepIndex, attempt) == delivery.DeliveryId)
            {
                return true;
            }
        }

        return false;
    }

    private static DateTimeOffset LastAt(JourneyInstance instance) => instance.History.Count > 0 ? instance.History[^1].At : instance.StartedAt;

    /// <summary>"frequency cap on sms: skipped" → (sms, skipped): the interpreter's own words for a cap.</summary>
    private static (string Channel, string Action)? CapOf(string what)
    {
        const string prefix = "frequency cap on ";
        if (!what.StartsWith(prefix, StringComparison.Ordinal) || what.IndexOf(':', prefix.Length) is var colon && colon < 0)
        {
            return null;
        }

        var action = what[(colon + 1)..].Trim();
        var space = action.IndexOf(' ');
        return (what[prefix.Length..colon], space < 0 ? action : action[..space]);
    }
}

/// <summary>Reasons as short categories: the text before its details (no addresses, no provider messages).</summary>
public static class Reasons
{
    public const int MaxLength = 60;

    public static string? Category(string? reason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return null;
        }

        var colon = reason.IndexOf(':');
        var head = (colon < 0 ? reason : reason[..colon]).Trim();
        return head.Length <= MaxLength ? head : head[..MaxLength];
    }
}
