using Azure.Messaging.ServiceBus;
using Nudge.Core.Pipeline;

namespace Nudge.ServiceBus;

/// <summary>
/// The dead-letter queues of the channel queues, where the namespace moves a message the delivery function failed on
/// more often than the queue's maximum delivery count allows. A replay takes each under a lock, hands it on, and only
/// then completes it; a body that is not a delivery message is left locked, and stays when its lock runs out.
/// </summary>
public sealed class ServiceBusDeadLetters(ServiceBusClient client) : IDeliveryDeadLetterSource
{
    /// <summary>How long one receive waits for dead letters before the replay counts the queue as empty.</summary>
    public static readonly TimeSpan ReceiveWait = TimeSpan.FromSeconds(5);

    public async Task<int> ReplayAsync(string channel, int max, Func<DeliveryMessage, CancellationToken, Task> replay, CancellationToken cancellationToken)
    {
        await using var receiver = client.CreateReceiver(ServiceBusDeliveryMessages.QueueName(channel),
            new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter, ReceiveMode = ServiceBusReceiveMode.PeekLock });
        var replayed = 0;
        while (replayed < max)
        {
            var batch = await receiver.ReceiveMessagesAsync(Math.Min(32, max - replayed), ReceiveWait, cancellationToken);
            if (batch.Count == 0)
            {
                break;
            }

            foreach (var letter in batch)
            {
                if (DeliveryMessage.TryParse(letter.Body.ToMemory().Span) is { } message)
                {
                    await replay(message, cancellationToken);
                    await receiver.CompleteMessageAsync(letter, cancellationToken);
                    replayed++;
                }
            }
        }

        return replayed;
    }
}
