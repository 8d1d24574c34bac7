using System.Diagnostics.Metrics;
using Nudge.Core.Pipeline;

namespace Nudge.App.Hosting;

/// <summary>
/// The pipeline's own instruments, recorded where the queue functions learn their outcomes. Tags are channel and
/// outcome names only: nothing that identifies a customer. Free unless a meter listener (the app's OpenTelemetry
/// setup, when it exports) collects them.
/// </summary>
public static class PipelineMetrics
{
    /// <summary>The meter's name, the same as the pipeline's activity source.</summary>
    public const string MeterName = PipelineTracing.ActivitySourceName;

    public const string ChannelTag = "nudge.channel";

    private static readonly Meter Meter = new(MeterName);

    /// <summary>How many deliveries one intake message carried: how much the group commit batches under the load.</summary>
    public static readonly Histogram<int> IntakeBatchDeliveries = Meter.CreateHistogram<int>(
        "nudge.intake.batch.deliveries", "{delivery}", "Deliveries per ingest-batches message (group commit)");

    private static readonly Counter<long> JourneyEvents = Meter.CreateCounter<long>(
        "nudge.journey.events", "{event}", "Events handed to the journeys, by outcome (processed, missing)");

    private static readonly Counter<long> Deliveries = Meter.CreateCounter<long>(
        "nudge.deliveries", "{delivery}", "Delivery messages the channel workers handled, by channel and outcome");

    public static void CountJourneyEvents(int processed, int missing)
    {
        if (processed > 0)
        {
            JourneyEvents.Add(processed, new KeyValuePair<string, object?>(PipelineTracing.OutcomeTag, "processed"));
        }

        if (missing > 0)
        {
            JourneyEvents.Add(missing, new KeyValuePair<string, object?>(PipelineTracing.OutcomeTag, "missing"));
        }
    }

    public static void CountDelivery(string channel, DeliveryHandling outcome)
    {
        if (Deliveries.Enabled)
        {
            Deliveries.Add(1, new KeyValuePair<string, object?>(ChannelTag, channel), new KeyValuePair<string, object?>(PipelineTracing.OutcomeTag, outcome.ToString()));
        }
    }
}
