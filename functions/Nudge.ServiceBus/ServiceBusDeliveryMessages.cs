using System.Text.Json;
using Azure.Messaging.ServiceBus;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.ServiceBus;

/// <summary>
/// The Service Bus shape of a delivery message: the same JSON body as on Storage queues (so one handler reads both),
/// and a message id that duplicate detection keys on. A delivery's first send carries its delivery id, so a
/// second copy (a journey activity run again) is dropped by the namespace; a send again (a deferral, a retry, a
/// replay) is a different message from the one being handled, so its id adds the (virtual) time it is due.
/// </summary>
public static class ServiceBusDeliveryMessages
{
    /// <summary>Queue names are wire contracts, the same as the Storage delivery queues': never rename them.</summary>
    public const string DeliveryQueuePrefix = "delivery-";

    public const string JsonContentType = "application/json";

    public static string QueueName(string channel) => DeliveryQueuePrefix + channel;

    /// <param name="dueAt">The virtual time a send again is due (it names the message); none: the first send.</param>
    /// <param name="enqueueAt">The real time the message is scheduled for (<paramref name="dueAt"/> converted); none: at once.</param>
    public static ServiceBusMessage ForDelivery(string channel, DeliveryMessage message, DateTimeOffset? dueAt = null, DateTimeOffset? enqueueAt = null)
    {
        var sent = new ServiceBusMessage(BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(message, NudgeJson.Options)))
        {
            MessageId = dueAt is { } due ? $"{message.DeliveryId}@{due.UtcTicks}" : message.DeliveryId,
            ContentType = JsonContentType,
            Subject = channel,
        };
        if (enqueueAt is { } at)
        {
            sent.ScheduledEnqueueTime = at;
        }

        return sent;
    }
}
