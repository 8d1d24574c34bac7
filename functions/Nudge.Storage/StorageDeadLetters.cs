using System.Text.Json;
using Azure.Storage.Queues;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Dead letters on each delivery queue's "-poison" queue: the same queue the Functions host (and the local trigger
/// driver) poisons a Storage queue message into, and where the delivery handler puts a delivery it gave up on.
/// </summary>
public sealed class StorageDeadLetters(QueueServiceClient service, StorageNames names) : IDeliveryDeadLetters, IDeliveryDeadLetterSource
{
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    public async Task AddAsync(string channel, DeliveryMessage message, CancellationToken cancellationToken) =>
        await Poison(channel).SendMessageAsync(JsonSerializer.Serialize(message, NudgeJson.Options), TimeSpan.Zero, NeverExpire, cancellationToken);

    public Task<int> ReplayAsync(string channel, int max, Func<DeliveryMessage, CancellationToken, Task> replay, CancellationToken cancellationToken) =>
        StoragePoisonQueues.TakeAsync(Poison(channel), max, async (item, ct) =>
        {
            // A body that is not a delivery message stays on the poison queue for a person to look at.
            if (DeliveryMessage.TryParse(item.Body.ToMemory().Span) is not { } message)
            {
                return false;
            }

            await replay(message, ct);
            return true;
        }, cancellationToken);

    private QueueClient Poison(string channel) => service.GetQueueClient(StorageNames.PoisonOf(names.DeliveryQueue(channel)));
}
