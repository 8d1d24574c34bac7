using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// The "-poison" queues: the Functions host (and the local trigger driver) moves a message there after its last
/// failed attempt. <see cref="TakeAsync"/> is how both replays take messages off one; <see cref="ReplayAsync"/> moves
/// the pipeline's own dead letters back onto their queues, unchanged but for the replay mark on journey messages.
/// </summary>
public sealed class StoragePoisonQueues(QueueServiceClient service, StorageNames names) : IPipelineDeadLetters
{
    /// <summary>How long a message taken but left (refused, or its move failed) stays hidden from the next take.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(1);

    /// <summary>Never expire: a replayed message must wait out whatever made it fail, as the original did.</summary>
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    public IReadOnlyList<string> Queues => StorageNames.PipelineQueues;

    public Task<int> ReplayAsync(string queue, int max, CancellationToken cancellationToken)
    {
        if (!Queues.Contains(queue))
        {
            throw new ArgumentException($"'{queue}' is not a pipeline queue.", nameof(queue));
        }

        var target = service.GetQueueClient(names.Queue(queue));
        return TakeAsync(service.GetQueueClient(names.Queue(StorageNames.PoisonOf(queue))), max, async (message, ct) =>
        {
            // Every message of these queues is a JSON object; anything else stays for a person to look at.
            if (ReadObject(message.Body) is not { } body)
            {
                return false;
            }

            await target.SendMessageAsync(message.Body, TimeSpan.Zero, NeverExpire, ct);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Takes up to <paramref name="max"/> messages off <paramref name="poison"/>, handing each to <paramref name="take"/>;
    /// a message leaves the poison queue only after <paramref name="take"/> returned true (a crash in between leaves
    /// it there, to be taken again). One it refuses stays, hidden for <see cref="Lease"/>. Returns how many were taken.
    /// A body the queue client cannot decode is never handed out: it stays too.
    /// </summary>
    public static async Task<int> TakeAsync(QueueClient poison, int max, Func<QueueMessage, CancellationToken, Task<bool>> take, CancellationToken cancellationToken)
    {
        var taken = 0;
        while (taken < max)
        {
            var batch = (await poison.ReceiveMessagesAsync(Math.Min(32, max - taken), Lease, cancellationToken)).Value;
            if (batch.Length == 0)
            {
                break;
            }

            foreach (var message in batch)
            {
                if (await take(message, cancellationToken))
                {
                    await poison.DeleteMessageAsync(message.MessageId, message.PopReceipt, cancellationToken);
                    taken++;
                }
            }
        }

        return taken;
    }

    private static JsonObject? ReadObject(BinaryData body)
    {
        try
        {
            return JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
