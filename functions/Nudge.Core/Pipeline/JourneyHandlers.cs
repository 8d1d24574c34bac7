using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>Settings the pipeline needs from the shop: which journeys are on and the time zone of customers who have none.</summary>
public sealed record PipelineSettings(IReadOnlyList<JourneyDefinition> Journeys, TimeZoneInfo DefaultTimeZone);

public enum EventHandling
{
    Processed,

    /// <summary>The message names an event that is not stored; nothing to do.</summary>
    EventMissing,
}

/// <summary>Folds an accepted event into the profile and routes it to every journey it starts or ends.</summary>
public sealed class JourneyEventHandler(IEventStore events, ProfileUpdater profiles, JourneyRunner runner, PipelineSettings settings)
{
    public async Task<EventHandling> HandleAsync(JourneyEventMessage message, CancellationToken cancellationToken)
    {
        var evt = await events.GetAsync(message.Customer, message.EventId, cancellationToken);
        if (evt is null)
        {
            return EventHandling.EventMissing;
        }

        var profile = await profiles.ApplyAsync(evt, cancellationToken);
        foreach (var journey in settings.Journeys)
        {
            var context = CustomerContexts.For(profile, journey, settings.DefaultTimeZone);
            if (evt.Type == journey.EntryEvent)
            {
                await runner.StartAsync(journey, evt.Customer, context, cancellationToken);
            }
            else if (journey.ExitOn.Contains(evt.Type))
            {
                await runner.ApplyAsync(evt.Customer, journey.Id, at => new EventArrived(at, evt.Type, evt.EventId), context, cancellationToken);
            }
        }

        return EventHandling.Processed;
    }
}

public enum TimerHandling
{
    Fired,

    /// <summary>Not due yet (a chained long delay, or early visibility): rescheduled.</summary>
    Rescheduled,

    /// <summary>The journey is not in the catalog any more.</summary>
    UnknownJourney,
}

/// <summary>Delivers a durable timer to its instance once its virtual due time has come.</summary>
public sealed class JourneyTimerHandler(IWorkQueue queue, IProfileStore profiles, JourneyRunner runner, PipelineSettings settings, TimeProvider clock)
{
    public async Task<TimerHandling> HandleAsync(JourneyTimerMessage message, CancellationToken cancellationToken)
    {
        if (clock.GetUtcNow() < message.DueAt)
        {
            await queue.EnqueueTimerAsync(message, cancellationToken);
            return TimerHandling.Rescheduled;
        }

        var journey = settings.Journeys.FirstOrDefault(j => j.Id == message.JourneyId);
        if (journey is null)
        {
            return TimerHandling.UnknownJourney;
        }

        var profile = (await profiles.GetAsync(message.Customer, cancellationToken))?.Value;
        var context = CustomerContexts.For(profile, journey, settings.DefaultTimeZone);
        await runner.ApplyAsync(message.Customer, message.JourneyId, at => new TimerFired(at, message.Sequence), context, cancellationToken);
        return TimerHandling.Fired;
    }
}

/// <summary>Reads and writes profiles under optimistic concurrency.</summary>
public sealed class ProfileUpdater(IProfileStore profiles)
{
    private const int MaxAttempts = 10;

    public async Task<CustomerProfile> ApplyAsync(CustomerEvent evt, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await profiles.GetAsync(evt.Customer, cancellationToken);
            var updated = ProfileUpdates.Apply(current?.Value, evt);
            if (current is not null && updated == current.Value)
            {
                return updated;
            }

            if (await profiles.TrySaveAsync(updated, current?.Version, cancellationToken))
            {
                return updated;
            }
        }

        throw new ConcurrencyException($"Could not update the profile after {MaxAttempts} attempts.");
    }
}

public static class CustomerContexts
{
    public static CustomerContext For(CustomerProfile? profile, JourneyDefinition journey, TimeZoneInfo defaultZone)
    {
        var zone = ZoneOf(profile, defaultZone);
        var goalReached = profile is not null && profile.HasOrdered && journey.ExitOn.Contains(EventTypes.OrderPlaced);
        return new CustomerContext(zone, profile?.Consent.NightAds ?? false, goalReached);
    }

    /// <summary>The customer's own time zone when known and valid, else the shop's default.</summary>
    public static TimeZoneInfo ZoneOf(CustomerProfile? profile, TimeZoneInfo defaultZone) =>
        profile?.TimeZone is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : defaultZone;
}
