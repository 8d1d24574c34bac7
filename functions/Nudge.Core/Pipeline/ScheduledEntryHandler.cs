using System.Globalization;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>
/// Enters every customer who matches a scheduled journey's filter (over profile facts) for one occurrence of its
/// schedule. The occurrence is the entry's trigger id, so running the same occurrence again enters no one twice.
/// </summary>
public sealed class ScheduledEntryHandler(
    IProfileStore profiles, IJourneyInstanceStore instances, JourneyStarter starter, RecentSends recentSends, IJourneyCatalog catalog, IScheduleCursor cursor,
    SegmentLibrary segments, PipelineSettings settings, TimeProvider clock)
{
    private readonly ProfileEntry _entry = new(instances, starter, recentSends, settings, clock);

    /// <summary>The last occurrence of an NCRONTAB schedule after <c>from</c> and at or before <c>to</c>, in a zone; null if none.</summary>
    public delegate DateTimeOffset? LastOccurrence(string schedule, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone);

    /// <summary>
    /// For each active scheduled journey, enters customers for the latest occurrence due since the last run (missed
    /// occurrences collapse into one: nobody gets a backlog of the same message). A journey is first seen, not
    /// backfilled: its schedule counts from the first run after it is published.
    /// </summary>
    public async Task<int> RunDueAsync(LastOccurrence lastOccurrence, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var entered = 0;
        foreach (var journey in await catalog.ActiveAsync(cancellationToken))
        {
            if (journey.Entry.Schedule is not { } schedule)
            {
                continue;
            }

            if (await cursor.GetAsync(journey.Id, cancellationToken) is { } from
                && lastOccurrence(schedule, from, now, settings.DefaultTimeZone) is { } due)
            {
                entered += await EnterAsync(journey, due, runtime, cancellationToken);
            }

            await cursor.SetAsync(journey.Id, now, cancellationToken);
        }

        return entered;
    }

    public async Task<int> EnterAsync(JourneyDefinition journey, DateTimeOffset occurrence, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var trigger = new EntryTrigger(
            $"schedule:{journey.Id}:{occurrence.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}",
            null,
            new Dictionary<string, string> { ["event.type"] = "schedule", ["event.occurredAt"] = occurrence.ToString("O", CultureInfo.InvariantCulture) });
        var entered = 0;
        var allSegments = await segments.AllAsync(cancellationToken);
        await foreach (var profile in profiles.ListAsync(cancellationToken))
        {
            // As of the occurrence: the same on a rerun.
            if (await _entry.EnterAsync(runtime, journey, profile, journey.Entry.Filter, allSegments, occurrence, trigger, cancellationToken) == EntryOutcome.Started)
            {
                entered++;
            }
        }

        return entered;
    }
}
