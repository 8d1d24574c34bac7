using Nudge.Core.Customers;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>What entering one stored customer into a journey came to.</summary>
public enum EntryOutcome
{
    Started,

    /// <summary>This trigger entered the customer before (a rerun): counted as the start it was.</summary>
    Repeated,

    /// <summary>The customer is in the journey already, or its re-entry policy keeps them out.</summary>
    AlreadyIn,

    /// <summary>The customer no longer meets the condition.</summary>
    NotMatching,

    /// <summary>The shop's cross-journey rules refuse the entry (too many marketing journeys at once).</summary>
    Refused,
}

/// <summary>
/// Enters one stored customer into a journey for a trigger that is not an event of theirs (a schedule's occurrence,
/// an audience run): the condition over their profile facts and segment memberships, the cross-journey rules, then
/// the starter. The trigger's id is the entry's: running the same trigger again enters no one twice.
/// </summary>
public sealed class ProfileEntry(IJourneyInstanceStore instances, JourneyStarter starter, RecentSends recentSends, PipelineSettings settings, TimeProvider clock)
{
    /// <param name="condition">Who may enter (null: anyone), judged as of <paramref name="at"/> in the customer's zone.</param>
    public async Task<EntryOutcome> EnterAsync(
        IJourneyRuntime runtime, JourneyDefinition journey, CustomerProfile profile, Condition? condition, IReadOnlyList<Segment> allSegments, DateTimeOffset at,
        EntryTrigger trigger, CancellationToken cancellationToken)
    {
        // The condition reads profile facts only: most customers of a scan are ruled out before any other read.
        var context = CustomerContexts.For(profile, settings);
        var when = new EvaluationTime(at, context.TimeZone);
        context = context with { Facts = CustomerFacts.Merge(context.CustomerFacts, SegmentLibrary.Memberships(allSegments, profile, when)) };
        if (condition is not null && !condition.Evaluate(context.CustomerFacts, when))
        {
            return EntryOutcome.NotMatching;
        }

        var rules = settings.CrossJourney;
        if (rules.HasCaps || rules.MaxConcurrentMarketingJourneys > 0)
        {
            // One listing of the customer's instances serves both cross-journey rules.
            var listed = await instances.ListForCustomerAsync(profile.Key, cancellationToken).ToListAsync(cancellationToken);

            context = context with { RecentSends = recentSends.Of(listed, clock.GetUtcNow()) };
            if (JourneyInterpreter.RefusedEntry(journey, context, listed.Count(i => !i.IsEnded && i.Definition.IsMarketing)) is not null)
            {
                return EntryOutcome.Refused;
            }
        }

        return await starter.StartAsync(runtime, journey, profile.Key, context, trigger, cancellationToken) switch
        {
            RunOutcome.Started => EntryOutcome.Started,
            RunOutcome.Repeated => EntryOutcome.Repeated,
            RunOutcome.Refused => EntryOutcome.Refused,
            _ => EntryOutcome.AlreadyIn,
        };
    }
}
