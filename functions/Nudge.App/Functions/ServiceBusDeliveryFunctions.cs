using System.Text.Json;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Pipeline;
using Nudge.ServiceBus;

namespace Nudge.App.Functions;

/// <summary>
/// The channel senders when deliveries travel over Service Bus (<c>Nudge__Delivery__Transport=servicebus</c>; the
/// <c>[Function]</c> methods are in ServiceBusDeliveryFunctions.Triggers.cs, built with
/// <c>-p:NudgeServiceBusTriggers=true</c>). Each parses the message body, calls the same <see cref="DeliveryHandler"/>
/// as the Storage queue senders and logs the outcome. The host completes the message when the function returns; when
/// it throws (an unreadable body, storage down), the message comes back after its lock, and the namespace
/// dead-letters it after the queue's maximum delivery count, for the replay endpoint. A delivery given up on goes to
/// the channel's poison queue, as on Storage queues: the Service Bus extension served here (5.7) cannot settle a
/// message from the function. Disabled in Azure when Storage queues carry the deliveries (infra/main.bicep), and
/// never fired by the local run (<see cref="LocalTriggerDriver.LocallyFired"/>).
/// </summary>
public sealed partial class ServiceBusDeliveryFunctions(DeliveryHandler handler, ILogger<ServiceBusDeliveryFunctions> logger)
{
    public Task<DeliveryHandling> DeliverAsync(string channel, string body, CancellationToken ct)
    {
        var message = JsonSerializer.Deserialize<DeliveryMessage>(body, NudgeJson.Options) ?? throw new InvalidDataException("Empty DeliveryMessage.");
        // The host's binding data has the message id; a first send's is its delivery id, which the span names anyway.
        return DeliveryInvocation.RunAsync(channel, ServiceBusDeliveryMessages.QueueName(channel), messageId: null, message, handler.HandleAsync, logger, ct);
    }
}
