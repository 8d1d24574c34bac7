using System.Diagnostics;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Nudge.App.Hosting;
using Nudge.App.Journeys;
using Nudge.Core;
using Nudge.Core.Pipeline;
using Nudge.Storage;

namespace Nudge.App.Functions;

/// <summary>
/// The queue and timer functions: each parses its trigger's payload, calls one handler and logs the outcome. The
/// functions that start or tell journeys get the host's durable client (<c>[DurableClient]</c>) and hand the handler
/// the journey runtime over it. The functions on the way from a webhook
/// to its delivery continue the trace their message carries (<see cref="PipelineTracing"/>): the host starts each
/// invocation in a trace of its own, and the processing span links to it.
/// </summary>
public sealed partial class TriggerFunctions(IServiceProvider services, ILogger<TriggerFunctions> logger)
{
    private const string Storage = "AzureWebJobsStorage";
    private const string Process = "process ";

    [Function("IngestBatches")]
    public async Task IngestBatchesAsync([QueueTrigger(StorageNames.IngestBatchesQueue, Connection = Storage)] QueueMessage message, CancellationToken ct)
    {
        var batch = Parse<IngestBatchMessage>(message);
        var entries = batch.ReadEntries();
        // The deliveries of many requests: one trace if they share one, else linked to each (their events continue
        // their own traces in JourneyEvents).
        using var span = StartProcessing(Process + StorageNames.IngestBatchesQueue, StorageNames.IngestBatchesQueue, message, entries.Select(e => e.TraceParent));
        var result = await Handler<IngestBatchHandler>().HandleAsync(batch, entries, ct);
        PipelineMetrics.IntakeBatchDeliveries.Record(result.Deliveries);
        LogIngestBatch(logger, batch.BatchId, result.Deliveries, result.Dispatched);
    }

    [Function("JourneyEvents")]
    public async Task JourneyEventsAsync(
        [QueueTrigger(StorageNames.JourneyEventsQueue, Connection = Storage)] QueueMessage message, [DurableClient] DurableTaskClient journeys, CancellationToken ct)
    {
        var runtime = new DurableJourneyRuntime(journeys);
        if (NamesSeveralEvents(message.Body.ToString()))
        {
            var several = Parse<JourneyEventsMessage>(message);
            using var batchSpan = StartProcessing(Process + StorageNames.JourneyEventsQueue, StorageNames.JourneyEventsQueue, message, several.Events.Select(e => e.TraceParent));
            var result = await Handler<JourneyEventsEntry>().HandleAsync(several, runtime, ct);
            PipelineMetrics.CountJourneyEvents(result.Processed, result.Missing);
            LogEvents(logger, several.Events.Count, result.Processed, result.Missing);
            return;
        }

        var single = Parse<JourneyEventMessage>(message);
        using var span = StartProcessing(Process + StorageNames.JourneyEventsQueue, StorageNames.JourneyEventsQueue, message, [single.TraceParent]);
        var outcome = await Handler<JourneyEventHandler>().HandleAsync(single, runtime, ct);
        var processed = outcome == EventHandling.Processed ? 1 : 0;
        PipelineMetrics.CountJourneyEvents(processed, missing: 1 - processed);
        LogEvent(logger, single.EventId, outcome);
    }

    [Function("EmailSender")]
    public Task EmailSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Email, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(Core.Delivery.ChannelNames.Email, message, ct);

    [Function("SmsSender")]
    public Task SmsSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Sms, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(Core.Delivery.ChannelNames.Sms, message, ct);

    [Function("KakaoSender")]
    public Task KakaoSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Kakao, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(Core.Delivery.ChannelNames.Kakao, message, ct);

    [Function("PrivacyRequests")]
    public async Task PrivacyRequestsAsync(
        [QueueTrigger(StorageNames.PrivacyRequestsQueue, Connection = Storage)] QueueMessage message, [DurableClient] DurableTaskClient journeys, CancellationToken ct)
    {
        var request = Parse<Core.Ingest.PrivacyRequest>(message);
        var record = await Handler<PrivacyHandler>().HandleAsync(request, new DurableJourneyRuntime(journeys), ct);
        LogPrivacy(logger, request.Kind, request.RequestId, record.Customers, record.Events);
    }

    [Function("PriceDrops")]
    public async Task PriceDropsAsync([QueueTrigger(StorageNames.PriceDropsQueue, Connection = Storage)] QueueMessage message, CancellationToken ct)
    {
        var drop = Parse<PriceDropMessage>(message);
        var count = await Handler<CatalogHandler>().FanOutAsync(drop, ct);
        LogPriceDrop(logger, drop.ProductId, drop.VariantId, count);
    }

    /// <summary>Every minute: journeys with a schedule entry enter the customers due.</summary>
    [Function("ScheduledEntries")]
    public async Task ScheduledEntriesAsync([TimerTrigger("0 * * * * *")] TimerInfo timer, [DurableClient] DurableTaskClient journeys, CancellationToken ct)
    {
        var entered = await Handler<ScheduledEntryHandler>().RunDueAsync(LastOccurrence, new DurableJourneyRuntime(journeys), ct);
        if (entered > 0)
        {
            LogScheduled(logger, entered);
        }
    }

    /// <summary>Every 15 minutes: what the shops' Admin APIs know that no webhook brought.</summary>
    [Function("Reconcile")]
    public async Task ReconcileAsync([TimerTrigger("0 */15 * * * *")] TimerInfo timer, CancellationToken ct)
    {
        var report = await Handler<ReconcileHandler>().RunAsync(ct);
        LogReconciled(logger, report.Shops, report.Read, report.Filled);
        if (report.Truncated > 0)
        {
            LogReconcileTruncated(logger, report.Truncated);
        }

        foreach (var failure in report.Failed ?? [])
        {
            LogReconcileFailed(logger, failure.Platform, failure.Shop, failure.Reason);
        }
    }

    /// <summary>Every minute: journeys' recorded results are folded into their day totals (reads count unfolded ones too).</summary>
    [Function("ResultsFold")]
    public async Task ResultsFoldAsync([TimerTrigger("30 * * * * *")] TimerInfo timer, CancellationToken ct) =>
        await Handler<Core.Results.ResultsService>().FoldAllAsync(ct);

    /// <summary>Every 30 minutes (real time): each shop's product relations relearned from the stored events and saved as its snapshot.</summary>
    [Function("RecommendationsRebuild")]
    public async Task RecommendationsRebuildAsync([TimerTrigger("0 */30 * * * *")] TimerInfo timer, CancellationToken ct) =>
        LogRelationsRebuilt(logger, await Handler<Core.Recommendations.RecommendationModel>().RebuildAsync(Handler<IEventStore>(), ct));

    /// <summary>Every 5 minutes: events whose hand-over to the journeys was interrupted are handed over again.</summary>
    [Function("DispatchSweep")]
    public async Task DispatchSweepAsync([TimerTrigger("0 */5 * * * *")] TimerInfo timer, CancellationToken ct)
    {
        var count = await Handler<DispatchSweepHandler>().SweepAsync(ct);
        if (count > 0)
        {
            LogSwept(logger, count);
        }
    }

    private async Task DeliverAsync(string channel, QueueMessage queued, CancellationToken ct)
    {
        await DeliveryInvocation.RunAsync(channel, StorageNames.DeliveryQueuePrefix + channel, queued.MessageId, Parse<DeliveryMessage>(queued),
            Handler<DeliveryHandler>().HandleAsync, logger, ct);
    }

    /// <summary>
    /// The span that processes one queue message, in the trace(s) its work came from. Its attributes name the queue and
    /// message, never the content (customers' contact data stays out of telemetry, as out of the logs).
    /// </summary>
    private static Activity? StartProcessing(string spanName, string queue, QueueMessage message, IEnumerable<string?> traceParents) =>
        PipelineTracing.StartContinuing(spanName, ActivityKind.Consumer, traceParents,
        [
            new("messaging.operation.type", "process"),
            new("messaging.destination.name", queue),
            new("messaging.message.id", message.MessageId),
        ]);

    /// <summary>Handlers are resolved per function, so an invocation builds only what it uses.</summary>
    private T Handler<T>() where T : notnull => services.GetRequiredService<T>();

    /// <summary>NCRONTAB with seconds, as in the timer triggers' schedules.</summary>
    public static DateTimeOffset? LastOccurrence(string schedule, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        Cronos.CronExpression.Parse(schedule, Cronos.CronFormat.IncludeSeconds)
            .GetOccurrences(from, to, zone, fromInclusive: false, toInclusive: true)
            .Select(o => (DateTimeOffset?)o)
            .LastOrDefault();

    private static T Parse<T>(QueueMessage message) =>
        JsonSerializer.Deserialize<T>(message.Body.ToMemory().Span, NudgeJson.Options) ?? throw new InvalidDataException($"Empty {typeof(T).Name}.");

    /// <summary>Whether a journey-events message is the several-event shape (<see cref="JourneyEventsMessage"/>).</summary>
    private static bool NamesSeveralEvents(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("events", out _);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Journey event {EventId}: {Outcome}")]
    private static partial void LogEvent(ILogger logger, string eventId, EventHandling outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Journey events: {Count} named, {Processed} processed, {Missing} missing")]
    private static partial void LogEvents(ILogger logger, int count, int processed, int missing);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest batch {BatchId}: {Deliveries} deliveries, {Dispatched} events handed to the journeys")]
    private static partial void LogIngestBatch(ILogger logger, string batchId, int deliveries, int dispatched);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled journeys entered {Count} customers")]
    private static partial void LogScheduled(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Privacy request {Kind} {RequestId}: {Customers} customers, {Events} events erased")]
    private static partial void LogPrivacy(ILogger logger, Core.Ingest.PrivacyRequestKind kind, string requestId, int customers, int events);

    [LoggerMessage(Level = LogLevel.Information, Message = "Product relations rebuilt and saved for {Shops} shops")]
    private static partial void LogRelationsRebuilt(ILogger logger, int shops);

    [LoggerMessage(Level = LogLevel.Information, Message = "Price drop of {ProductId}/{VariantId}: {Count} interested customers told")]
    private static partial void LogPriceDrop(ILogger logger, string productId, string variantId, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconciliation: {Shops} shops polled, {Read} records read, {Filled} missing events filled")]
    private static partial void LogReconciled(ILogger logger, int shops, int read, int filled);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation read {Windows} windows only in part: more records in the shortest window an Admin API searches than one read takes")]
    private static partial void LogReconcileTruncated(ILogger logger, int windows);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconciliation of {Platform} shop {Shop} failed ({Reason}); its cursor stays, the next run retries")]
    private static partial void LogReconcileFailed(ILogger logger, string platform, string shop, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dispatch sweep re-dispatched {Count} interrupted events")]
    private static partial void LogSwept(ILogger logger, int count);
}
