namespace Nudge.Core.Pipeline;

/// <summary>What became of a journey-events message: counts, and the events that failed and were queued again alone.</summary>
public sealed record JourneyEventsOutcome(int Processed, int Missing, IReadOnlyList<(string EventId, Exception Error)> Requeued);

/// <summary>
/// The entry of the journey-events queue. A message names one event or, from ingest's batches, several; each goes
/// through <see cref="JourneyEventHandler"/> on its own, unchanged. An event of a several-event message that fails is
/// queued again as a message of its own (and the others are not repeated), so it retries and at last poisons alone.
/// </summary>
public sealed class JourneyEventsEntry(JourneyEventHandler perEvent, IWorkQueue queue)
{
    public async Task<JourneyEventsOutcome> HandleAsync(JourneyEventsMessage message, CancellationToken cancellationToken)
    {
        var processed = 0;
        var missing = 0;
        var requeued = new List<(string, Exception)>();
        foreach (var reference in message.Events)
        {
            EventHandling outcome;
            try
            {
                outcome = await perEvent.HandleAsync(reference, cancellationToken);
            }
            catch (Exception e) when (message.Events.Count > 1 && e is not OperationCanceledException)
            {
                await queue.EnqueueEventAsync(reference, cancellationToken);
                requeued.Add((reference.EventId, e));
                continue;
            }

            if (outcome == EventHandling.Processed)
            {
                processed++;
            }
            else
            {
                missing++;
            }
        }

        return new JourneyEventsOutcome(processed, missing, requeued);
    }
}
