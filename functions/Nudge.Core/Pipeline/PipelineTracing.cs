using System.Diagnostics;

namespace Nudge.Core.Pipeline;

/// <summary>
/// One trace from a webhook to its delivery across the pipeline's queues. A storage queue message carries no trace
/// context of its own, so the messages on that path carry a W3C <c>traceparent</c> (taken from the current activity
/// when they are written), and the code that processes a message continues that trace here. Nothing happens unless
/// something listens to <see cref="ActivitySourceName"/> (the app's OpenTelemetry setup, when it exports).
/// </summary>
public static class PipelineTracing
{
    public const string ActivitySourceName = "Nudge.Pipeline";

    /// <summary>The JSON property a message carries its trace context in: the W3C header's name. Omitted when there is none.</summary>
    public const string TraceParentProperty = "traceparent";

    /// <summary>
    /// Span attributes that find a trace from what an operator knows: the event id a webhook was answered with, the
    /// delivery id of the delivery log. Ids, template names and outcomes only: never a customer's contact data.
    /// </summary>
    public const string EventIdTag = "nudge.event.id";

    public const string DeliveryIdTag = "nudge.delivery.id";
    public const string TemplateTag = "nudge.template";
    public const string OutcomeTag = "nudge.outcome";

    public static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>
    /// The current activity's context as a W3C <c>traceparent</c>, to write into a message; null outside any activity,
    /// and while nothing listens (no exporter: ASP.NET Core still makes an activity per request, and its id would only
    /// cost message bytes). An unsampled context is carried too, so the sampling decision made at the webhook holds
    /// along the whole path.
    /// </summary>
    public static string? CurrentTraceParent() =>
        Source.HasListeners() && Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : null;

    /// <summary>
    /// Starts a span for work done on behalf of <paramref name="traceParents"/> (the contexts of the messages, events or
    /// deliveries it takes; missing or malformed ones are skipped). A span has one parent:
    /// <list type="bullet">
    /// <item>All of the work comes from one trace: the span continues it, and links to the current activity (the
    /// function's invocation, which the host started in a trace of its own) unless that is in the same trace already.</item>
    /// <item>The work comes from several traces (a batch of deliveries): the span is a child of the current activity
    /// and links to each of them; whoever handles one of them on its own continues its trace with this method again.</item>
    /// <item>None: a child of the current activity.</item>
    /// </list>
    /// </summary>
    public static Activity? StartContinuing(string name, ActivityKind kind, IEnumerable<string?> traceParents, IEnumerable<KeyValuePair<string, object?>>? tags = null)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var contexts = new List<ActivityContext>();
        foreach (var traceParent in traceParents)
        {
            if (traceParent is not null && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) && !contexts.Contains(context))
            {
                contexts.Add(context);
            }
        }

        var current = Activity.Current;
        var traces = contexts.Select(c => c.TraceId).Distinct().Count();
        if (traces == 1 && current?.TraceId != contexts[0].TraceId)
        {
            ActivityLink[] invocation = current is null ? [] : [new ActivityLink(current.Context)];
            return Source.StartActivity(name, kind, contexts[0], tags, invocation);
        }

        // In the current trace already, or several traces: the current activity is the parent.
        var links = traces > 1 ? contexts.Select(c => new ActivityLink(c)) : null;
        return Source.StartActivity(name, kind, parentContext: default, tags, links);
    }
}
