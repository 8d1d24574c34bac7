using System.Collections.Concurrent;
using System.Text.Json;
using Azure.Storage.Queues;
using Nudge.Core;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;

namespace Nudge.Storage;

/// <summary>
/// Work and durable timers on Storage queues. A timer is a message whose visibility delay is its due time
/// converted to real time (the virtual clock's speed), capped at the queue's 7-day limit; the timer handler
/// re-enqueues what is not due yet, which chains longer delays.
/// A queue message carries no trace context of its own: the journey and delivery messages written here carry the
/// current one (<see cref="PipelineTracing"/>) unless they bring their own, as HTTP instrumentation adds a header.
/// </summary>
public sealed class StorageWorkQueue(QueueServiceClient service, StorageNames names, VirtualClock clock) : IWorkQueue, IDeliveryQueue, IPrivacyQueue, IPriceDropQueue, IIntakeQueue, Core.Imports.IImportQueue,
    Core.Segments.IAudienceQueue
{
    /// <summary>The service allows visibility up to 7 days; keep a margin.</summary>
    public static readonly TimeSpan MaxVisibilityDelay = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5);

    /// <summary>Never expire: a message that waits out an outage must still be delivered.</summary>
    private static readonly TimeSpan NeverExpire = TimeSpan.FromSeconds(-1);

    private readonly ConcurrentDictionary<string, QueueClient> _queues = new();

    public Task EnqueueEventAsync(JourneyEventMessage message, CancellationToken cancellationToken) =>
        SendAsync(StorageNames.JourneyEventsQueue, message with { TraceParent = message.TraceParent ?? PipelineTracing.CurrentTraceParent() }, TimeSpan.Zero, cancellationToken);

    public Task EnqueueEventsAsync(JourneyEventsMessage message, CancellationToken cancellationToken)
    {
        var current = PipelineTracing.CurrentTraceParent();
        var traced = message.Events.All(e => e.TraceParent is not null) ? message
            : new JourneyEventsMessage(message.Events.Select(e => e with { TraceParent = e.TraceParent ?? current }).ToList());
        return SendAsync(StorageNames.JourneyEventsQueue, traced, TimeSpan.Zero, cancellationToken);
    }

    public Task AppendAsync(string batchMessageJson, CancellationToken cancellationToken) =>
        Queue(StorageNames.IngestBatchesQueue).SendMessageAsync(batchMessageJson, TimeSpan.Zero, NeverExpire, cancellationToken);

    public async Task<bool> IsDrainedAsync(CancellationToken cancellationToken) =>
        (await Queue(StorageNames.IngestBatchesQueue).GetPropertiesAsync(cancellationToken)).Value.ApproximateMessagesCount == 0;

    public Task EnqueueDeliveryAsync(string channel, DeliveryMessage message, DateTimeOffset? notBefore, CancellationToken cancellationToken) =>
        SendAsync(StorageNames.DeliveryQueuePrefix + channel, message with { TraceParent = message.TraceParent ?? PipelineTracing.CurrentTraceParent() }, notBefore is { } at ? DelayUntil(at) : TimeSpan.Zero, cancellationToken);

    public Task EnqueueImportAsync(Core.Imports.ImportWorkMessage message, CancellationToken cancellationToken) =>
        SendAsync(StorageNames.ImportsQueue, message, TimeSpan.Zero, cancellationToken);

    public Task EnqueueAudienceSliceAsync(Core.Segments.AudienceSliceMessage message, TimeSpan realDelay, CancellationToken cancellationToken) =>
        SendAsync(StorageNames.AudienceSlicesQueue, message, VisibilityDelay(realDelay), cancellationToken);

    public Task EnqueuePriceDropAsync(PriceDropMessage message, CancellationToken cancellationToken) =>
        SendAsync(StorageNames.PriceDropsQueue, message, TimeSpan.Zero, cancellationToken);

    public Task EnqueuePrivacyAsync(Core.Ingest.PrivacyRequest request, CancellationToken cancellationToken, TimeSpan? after = null) =>
        SendAsync(StorageNames.PrivacyRequestsQueue, request, after is { } delay ? VisibilityDelay(delay) : TimeSpan.Zero, cancellationToken);

    /// <summary>
    /// Real-time visibility delay until a virtual instant, rounded up to the whole seconds the service counts in
    /// (rounding down would make the message visible early and bounce it back again and again); handlers
    /// re-enqueue what the 7-day cap cut short.
    /// </summary>
    private TimeSpan DelayUntil(DateTimeOffset dueAt) => VisibilityDelay(clock.ToRealDelay(dueAt - clock.GetUtcNow()));

    public static TimeSpan VisibilityDelay(TimeSpan realDelay)
    {
        var delay = TimeSpan.FromSeconds(Math.Ceiling(Math.Max(0, realDelay.TotalSeconds)));
        return delay > MaxVisibilityDelay ? MaxVisibilityDelay : delay;
    }

    private async Task SendAsync<T>(string queueName, T message, TimeSpan delay, CancellationToken cancellationToken)
    {
        await Queue(queueName).SendMessageAsync(JsonSerializer.Serialize(message, NudgeJson.Options), delay, NeverExpire, cancellationToken);
    }

    private QueueClient Queue(string queueName) => _queues.GetOrAdd(queueName, name => service.GetQueueClient(names.Queue(name)));
}
