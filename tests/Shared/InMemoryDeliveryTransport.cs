using System.Collections.Concurrent;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.Testing;

/// <summary>
/// The delivery transport in memory, for a handler's own logic (what it queued, and for when): it passes the same
/// contract suite as the Storage queue adapter (DeliveryTransportContractTests). A message is due from its
/// <c>notBefore</c> on the given clock.
/// </summary>
public sealed class InMemoryDeliveryTransport(TimeProvider clock) : IDeliveryQueue, IDeliveryDeadLetterSource
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<QueuedDelivery>> _queues = new();
    private readonly ConcurrentDictionary<string, ConcurrentQueue<BinaryData>> _deadLetters = new();

    public sealed record QueuedDelivery(string Channel, BinaryData Body, DateTimeOffset? NotBefore)
    {
        public DeliveryMessage Message => JsonSerializer.Deserialize<DeliveryMessage>(Body.ToMemory().Span, NudgeJson.Options)!;
    }

    /// <summary>Everything queued on a channel, due or not, in order.</summary>
    public IReadOnlyList<QueuedDelivery> Queued(string channel) => [.. Queue(channel)];

    public Task EnqueueDeliveryAsync(string channel, DeliveryMessage message, DateTimeOffset? notBefore, CancellationToken cancellationToken)
    {
        var traced = message with { TraceParent = message.TraceParent ?? PipelineTracing.CurrentTraceParent() };
        Queue(channel).Enqueue(new QueuedDelivery(channel, BinaryData.FromBytes(JsonSerializer.SerializeToUtf8Bytes(traced, NudgeJson.Options)), notBefore));
        return Task.CompletedTask;
    }

    /// <summary>Takes the first due message off a channel's queue, if any.</summary>
    public QueuedDelivery? TryTakeDue(string channel)
    {
        var queue = Queue(channel);
        var now = clock.GetUtcNow();
        var due = queue.FirstOrDefault(q => q.NotBefore is not { } at || at <= now);
        if (due is null)
        {
            return null;
        }

        _queues[channel] = new ConcurrentQueue<QueuedDelivery>(queue.Where(q => !ReferenceEquals(q, due)));
        return due;
    }

    public void DeadLetter(string channel, BinaryData body) => _deadLetters.GetOrAdd(channel, _ => new()).Enqueue(body);

    public int DeadLetterCount(string channel) => _deadLetters.TryGetValue(channel, out var letters) ? letters.Count : 0;

    public async Task<int> ReplayAsync(string channel, int max, Func<DeliveryMessage, CancellationToken, Task> replay, CancellationToken cancellationToken)
    {
        var letters = _deadLetters.GetOrAdd(channel, _ => new());
        var kept = new List<BinaryData>();
        var replayed = 0;
        try
        {
            while (replayed < max && letters.TryDequeue(out var letter))
            {
                if (DeliveryMessage.TryParse(letter.ToMemory().Span) is not { } message)
                {
                    kept.Add(letter);
                    continue;
                }

                try
                {
                    await replay(message, cancellationToken);
                }
                catch
                {
                    kept.Add(letter); // it leaves only after it was handed on
                    throw;
                }

                replayed++;
            }
        }
        finally
        {
            foreach (var letter in kept)
            {
                letters.Enqueue(letter);
            }
        }

        return replayed;
    }

    private ConcurrentQueue<QueuedDelivery> Queue(string channel) => _queues.GetOrAdd(channel, _ => new());
}
