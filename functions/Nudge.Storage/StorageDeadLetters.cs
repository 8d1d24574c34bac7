using System.Text.Json;
using Azure.Storage.Queues;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Dead letters on each delivery queue's "-poison" queue: the same queue the Functions host poisons into.</summary>
public sealed class StorageDeadLetters(QueueServiceClient service, StorageNames names) : IDeliveryDeadLetters
{
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    public async Task AddAsync(string channel, DeliveryMessage message, CancellationToken cancellationToken) =>
        await Poison(channel).SendMessageAsync(JsonSerializer.Serialize(message, NudgeJson.Options), TimeSpan.Zero, NeverExpire, cancellationToken);

    public async Task<IReadOnlyList<DeliveryMessage>> TakeAsync(string channel, int max, CancellationToken cancellationToken)
    {
        var taken = new List<DeliveryMessage>();
        await StoragePoisonQueues.TakeAsync(Poison(channel), max, (item, _) =>
        {
            // A body that is not a delivery message stays on the poison queue for a person to look at.
            if (TryParse(item.Body.ToString()) is not { } message)
            {
                return Task.FromResult(false);
            }

            taken.Add(message);
            return Task.FromResult(true);
        }, cancellationToken);
        return taken;
    }

    private QueueClient Poison(string channel) => service.GetQueueClient(StorageNames.PoisonOf(names.DeliveryQueue(channel)));

    private static DeliveryMessage? TryParse(string text)
    {
        try
        {
            return JsonSerializer.Deserialize<DeliveryMessage>(text, NudgeJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
