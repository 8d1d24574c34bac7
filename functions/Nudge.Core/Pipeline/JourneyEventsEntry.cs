namespace Nudge.Core.Pipeline;

/// <summary>What became of a several-event journey-events message.</summary>
public sealed record JourneyEventsOutcome(int Processed, int Missing);

/// <summary>
/// The entry of the journey-events queue for the several-event shape (ingest's batches): each event goes through
/// <see cref="JourneyEventHandler"/> on its own, unchanged. One event's failure does not stop the others; the message then fails
/// as a whole and is redelivered, where the events already handled change nothing again (an entry is recognized by its
/// event, a goal or wait already met is met) and the failed ones are tried again (in the end, with the message, in the poison queue).
/// </summary>
public sealed class JourneyEventsEntry(JourneyEventHandler perEvent)
{
    public async Task<JourneyEventsOutcome> HandleAsync(JourneyEventsMessage message, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var processed = 0;
        var missing = 0;
        var failures = new List<Exception>();
        foreach (var reference in message.Events)
        {
            // Each event continues the trace of the delivery that brought it (the message serves several).
            using var span = PipelineTracing.StartContinuing(
                "journey event", System.Diagnostics.ActivityKind.Internal, [reference.TraceParent], [new(PipelineTracing.EventIdTag, reference.EventId)]);
            try
            {
                if (await perEvent.HandleAsync(reference, runtime, cancellationToken) == EventHandling.Processed)
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
                span?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.GetType().Name);
                failures.Add(new InvalidOperationException($"Journey event {reference.EventId} failed.", e));
            }
        }

        return failures.Count == 0
            ? new JourneyEventsOutcome(processed, missing)
            : throw new AggregateException($"{failures.Count} of {message.Events.Count} events of the message failed; it will be redelivered.", failures);
    }
}
