using System.Diagnostics;
using Nudge.App.Hosting;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// What every delivery trigger does around the one handler, whichever transport brought the message: the processing
/// span in the trace the message carries (its attributes name the queue and message, never the content), the
/// delivery counter and the log line.
/// </summary>
internal static partial class DeliveryInvocation
{
    public static async Task<DeliveryHandling> RunAsync(
        string channel, string queue, string? messageId, DeliveryMessage message,
        Func<DeliveryMessage, CancellationToken, Task<DeliveryHandling>> handle, ILogger logger, CancellationToken cancellationToken)
    {
        using var span = PipelineTracing.StartContinuing("process " + queue, ActivityKind.Consumer, [message.TraceParent],
        [
            new("messaging.operation.type", "process"),
            new("messaging.destination.name", queue),
            new("messaging.message.id", messageId),
        ]);
        span?.SetTag(PipelineTracing.DeliveryIdTag, message.DeliveryId);
        span?.SetTag(PipelineTracing.TemplateTag, message.Order?.Template);
        var outcome = await handle(message, cancellationToken);
        span?.SetTag(PipelineTracing.OutcomeTag, outcome.ToString());
        PipelineMetrics.CountDelivery(channel, outcome);
        LogDelivery(logger, message.DeliveryId, outcome);
        return outcome;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: {Outcome}")]
    private static partial void LogDelivery(ILogger logger, string deliveryId, DeliveryHandling outcome);
}
