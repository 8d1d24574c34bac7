using System.Text.Json;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>The non-HTTP functions: each parses its trigger payload, calls one handler and logs the outcome.</summary>
public static partial class TriggerFunctions
{
    public static IReadOnlyDictionary<string, TriggerHandler> All { get; } = new Dictionary<string, TriggerHandler>
    {
        ["JourneyEvents"] = async (text, services, ct) =>
        {
            if (NamesSeveralEvents(text))
            {
                var several = Parse<JourneyEventsMessage>(text);
                var result = await services.GetRequiredService<JourneyEventsEntry>().HandleAsync(several, ct, MessageId(services));
                LogEvents(Logger(services), several.Events.Count, result.Processed, result.Missing);
                return;
            }

            var message = Parse<JourneyEventMessage>(text);
            var outcome = await services.GetRequiredService<JourneyEventHandler>().HandleAsync(message, ct, MessageId(services));
            LogEvent(Logger(services), message.EventId, outcome);
        },
        ["IngestBatches"] = async (text, services, ct) =>
        {
            var batch = Parse<IngestBatchMessage>(text);
            var result = await services.GetRequiredService<IngestBatchHandler>().HandleAsync(batch, ct);
            LogIngestBatch(Logger(services), batch.BatchId, result.Deliveries, result.Dispatched);
        },
        ["JourneyTimers"] = async (text, services, ct) =>
        {
            var message = Parse<JourneyTimerMessage>(text);
            var outcome = await services.GetRequiredService<JourneyTimerHandler>().HandleAsync(message, ct, MessageId(services));
            LogTimer(Logger(services), message.JourneyId, message.Sequence, outcome);
        },
        ["EmailSender"] = Deliver,
        ["SmsSender"] = Deliver,
        ["ScheduledEntries"] = async (_, services, ct) =>
        {
            var entered = await services.GetRequiredService<ScheduledEntryHandler>().RunDueAsync(LastOccurrence, ct);
            if (entered > 0)
            {
                LogScheduled(Logger(services), entered);
            }
        },
        ["PrivacyRequests"] = async (text, services, ct) =>
        {
            var request = Parse<Core.Ingest.PrivacyRequest>(text);
            var record = await services.GetRequiredService<PrivacyHandler>().HandleAsync(request, ct);
            LogPrivacy(Logger(services), request.Kind, request.RequestId, record.Customers, record.Events);
        },
        ["PriceDrops"] = async (text, services, ct) =>
        {
            var drop = Parse<PriceDropMessage>(text);
            var count = await services.GetRequiredService<CatalogHandler>().FanOutAsync(drop, ct);
            LogPriceDrop(Logger(services), drop.ProductId, drop.VariantId, count);
        },
        ["Reconcile"] = async (_, services, ct) =>
        {
            var report = await services.GetRequiredService<ReconcileHandler>().RunAsync(ct);
            LogReconciled(Logger(services), report.Shops, report.Read, report.Filled);
            if (report.Truncated > 0)
            {
                LogReconcileTruncated(Logger(services), report.Truncated);
            }

            foreach (var failure in report.Failed ?? [])
            {
                LogReconcileFailed(Logger(services), failure.Platform, failure.Shop, failure.Reason);
            }
        },

        ["KakaoSender"] = Deliver,
        ["DispatchSweep"] = async (_, services, ct) =>
        {
            var count = await services.GetRequiredService<DispatchSweepHandler>().SweepAsync(ct);
            if (count > 0)
            {
                LogSwept(Logger(services), count);
            }
        },
    };

    private static async Task Deliver(string text, IServiceProvider services, CancellationToken ct)
    {
        var message = Parse<DeliveryMessage>(text);
        var outcome = await services.GetRequiredService<DeliveryHandler>().HandleAsync(message, ct);
        LogDelivery(Logger(services), message.DeliveryId, outcome);
    }

    /// <summary>NCRONTAB with seconds, as in function.json timer schedules.</summary>
    public static DateTimeOffset? LastOccurrence(string schedule, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        Cronos.CronExpression.Parse(schedule, Cronos.CronFormat.IncludeSeconds)
            .GetOccurrences(from, to, zone, fromInclusive: false, toInclusive: true)
            .Select(o => (DateTimeOffset?)o)
            .LastOrDefault();

    private static T Parse<T>(string text) =>
        JsonSerializer.Deserialize<T>(text, NudgeJson.Options) ?? throw new InvalidDataException($"Empty {typeof(T).Name}.");

    /// <summary>Whether a journey-events message is the several-event shape (<see cref="JourneyEventsMessage"/>).</summary>
    private static bool NamesSeveralEvents(string text)
    {
        using var document = JsonDocument.Parse(text);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("events", out _);
    }

    private static string? MessageId(IServiceProvider services) => services.GetService<InvocationMetadata>()?.MessageId;

    private static ILogger Logger(IServiceProvider services) =>
        services.GetRequiredService<ILoggerFactory>().CreateLogger("Nudge.Functions");

    [LoggerMessage(Level = LogLevel.Information, Message = "Journey event {EventId}: {Outcome}")]
    private static partial void LogEvent(ILogger logger, string eventId, EventHandling outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "Journey events: {Count} named, {Processed} processed, {Missing} missing")]
    private static partial void LogEvents(ILogger logger, int count, int processed, int missing);

    [LoggerMessage(Level = LogLevel.Information, Message = "Ingest batch {BatchId}: {Deliveries} deliveries, {Dispatched} events handed to the journeys")]
    private static partial void LogIngestBatch(ILogger logger, string batchId, int deliveries, int dispatched);

    [LoggerMessage(Level = LogLevel.Information, Message = "Journey timer {JourneyId}#{Sequence}: {Outcome}")]
    private static partial void LogTimer(ILogger logger, string journeyId, int sequence, TimerHandling outcome);

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
