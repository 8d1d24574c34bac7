namespace Nudge.Core.Pipeline;

/// <summary>What became of a several-event journey-events message.</summary>
public sealed record JourneyEventsOutcome(int Processed, int Missing);

/// <summary>
/// The entry of the journey-events queue for the several-event shape (ingest's batches): each event goes through
/// <see cref="JourneyEventHandler"/> on its own, unchanged, with the queue message id, so the journeys tell a
/// redelivered message's events from new ones. One event's failure does not stop the others; the message then fails
/// as a whole and is redelivered, where the events already handled are recognized as redeliveries and the failed
/// ones are tried again (in the end, with the message, in the poison queue).
/// </summary>
public sealed class JourneyEventsEntry(JourneyEventHandler perEvent)
{
    public async Task<JourneyEventsOutcome> HandleAsync(JourneyEventsMessage message, CancellationToken cancellationToken, string? messageId = null)
    {
        var processed = 0;
        var missing = 0;
        var failures = new List<Exception>();
        foreach (var reference in message.Events)
        {
            try
            {
                if (await perEvent.HandleAsync(message.Replayed ? reference with { Replayed = true } : reference, cancellationToken, messageId) == EventHandling.Processed)
                {
                    processed++;
                }
                else
                {
                    missing++;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                failures.Add(new InvalidOperationException($"Journey event {reference.EventId} failed.", e));
            }
        }

        return failures.Count == 0
            ? new JourneyEventsOutcome(processed, missing)
            : throw new AggregateException($"{failures.Count} of {message.Events.Count} events of the message failed; it will be redelivered.", failures);
    }
}
