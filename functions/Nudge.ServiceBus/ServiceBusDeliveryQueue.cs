using System.Collections.Concurrent;
using Azure.Messaging.ServiceBus;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;

namespace Nudge.ServiceBus;

/// <summary>
/// Channel delivery over a Service Bus namespace, one queue per channel. A deferred delivery (quiet hours, a retry's
/// backoff, a rate limit, another worker's claim) is a scheduled message: the namespace holds it until its time, with
/// no 7-day cap and no polling. Messages carry the current trace context unless they bring their own, as on Storage
/// queues.
/// </summary>
public sealed class ServiceBusDeliveryQueue(ServiceBusClient client, VirtualClock clock) : IDeliveryQueue, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ServiceBusSender> _senders = new();

    public Task EnqueueDeliveryAsync(string channel, DeliveryMessage message, DateTimeOffset? notBefore, CancellationToken cancellationToken) =>
        Sender(channel).SendMessageAsync(MessageFor(channel, message, notBefore), cancellationToken);

    /// <summary>What <see cref="EnqueueDeliveryAsync"/> sends.</summary>
    public ServiceBusMessage MessageFor(string channel, DeliveryMessage message, DateTimeOffset? notBefore) =>
        ServiceBusDeliveryMessages.ForDelivery(channel, message with { TraceParent = message.TraceParent ?? PipelineTracing.CurrentTraceParent() },
            notBefore, ScheduleFor(clock, notBefore));

    /// <summary>
    /// The real time a virtual due time falls at (the namespace schedules in real time); none when it is due already,
    /// so the message is sent at once.
    /// </summary>
    public static DateTimeOffset? ScheduleFor(VirtualClock clock, DateTimeOffset? notBefore) =>
        notBefore is { } at && at > clock.GetUtcNow() ? clock.Anchor.RealAtVirtual(at) : null;

    private ServiceBusSender Sender(string channel) => _senders.GetOrAdd(channel, c => client.CreateSender(ServiceBusDeliveryMessages.QueueName(c)));

    public async ValueTask DisposeAsync()
    {
        foreach (var sender in _senders.Values)
        {
            await sender.DisposeAsync();
        }
    }
}
