using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Nudge.App.Journeys;
using Nudge.Core;
using Nudge.Core.Pipeline;
using Nudge.Storage;

namespace Nudge.App.Functions;

/// <summary>
/// The queue and timer functions: each parses its trigger's payload, calls one handler and logs the outcome. The
/// queue message's id goes to the handlers that recognize a redelivery by it.
/// </summary>
public sealed partial class TriggerFunctions(IServiceProvider services, ILogger<TriggerFunctions> logger)
{
    private const string Storage = "AzureWebJobsStorage";

    [Function("IngestBatches")]
    public async Task IngestBatchesAsync([QueueTrigger(StorageNames.IngestBatchesQueue, Connection = Storage)] QueueMessage message, CancellationToken ct)
    {
        var batch = Parse<IngestBatchMessage>(message);
        var result = await Handler<IngestBatchHandler>().HandleAsync(batch, ct);
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
            var result = await Handler<JourneyEventsEntry>().HandleAsync(several, runtime, ct);
            LogEvents(logger, several.Events.Count, result.Processed, result.Missing);
            return;
        }

        var single = Parse<JourneyEventMessage>(message);
        var outcome = await Handler<JourneyEventHandler>().HandleAsync(single, runtime, ct);
        LogEvent(logger, single.EventId, outcome);
    }

    [Function("EmailSender")]
    public Task EmailSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Email, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(message, ct);

    [Function("SmsSender")]
    public Task SmsSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Sms, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(message, ct);

    [Function("KakaoSender")]
    public Task KakaoSenderAsync([QueueTrigger(StorageNames.DeliveryQueuePrefix + Core.Delivery.ChannelNames.Kakao, Connection = Storage)] QueueMessage message, CancellationToken ct) =>
        DeliverAsync(message, ct);

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

    private async Task DeliverAsync(QueueMessage queued, CancellationToken ct)
    {
        var message = Parse<DeliveryMessage>(queued);
        var outcome = await Handler<DeliveryHandler>().HandleAsync(message, ct);
        LogDelivery(logger, message.DeliveryId, outcome);
    }

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

    [LoggerMessage(Level = LogLevel.Information, Message = "Delivery {DeliveryId}: {Outcome}")]
    private static partial void LogDelivery(ILogger logger, string deliveryId, DeliveryHandling outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Scheduled journeys entered {Count} customers")]
    private static partial void LogScheduled(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Privacy request {Kind} {RequestId}: {Customers} customers, {Events} events erased")]
    private static partial void LogPrivacy(ILogger logger, Core.Ingest.PrivacyRequestKind kind, string requestId, int customers, int events);

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
