using System.Reflection;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Cronos;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.Core.Time;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>
/// Outside the Functions host, fires the queue and timer functions the way the host would: polls each queue with
/// backoff up to host.json's maxPollingInterval, takes batches of batchSize and the next one when newBatchThreshold
/// are left in flight (<see cref="QueuePump"/>), deletes a message after success, makes it visible again after
/// host.json's visibilityTimeout on failure, and moves it to "&lt;queue&gt;-poison" after maxDequeueCount attempts.
/// Timers follow their NCRONTAB schedule (with seconds) in real time. Polling backs off to
/// <see cref="LocalFunctionHost.PollingCap"/>.
/// </summary>
public sealed partial class LocalTriggerDriver(
    FunctionCatalog catalog,
    HostJson host,
    StorageClients storage,
    StorageNames names,
    VirtualClock clock,
    IServiceProvider services,
    IOptions<NudgeOptions> options,
    ILogger<LocalTriggerDriver> logger) : BackgroundService
{
    /// <summary>
    /// How long a message stays hidden while a function works on it; renewed every third of it while the function runs,
    /// as the host renews its leases. Short, so a message whose process died is taken again within seconds.
    /// </summary>
    private static readonly TimeSpan ProcessingLease = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The functions the local run fires: the Storage queue and timer triggers. The Service Bus senders are left out
    /// on purpose: locally Storage queues are the delivery transport (the app refuses to start locally with Service Bus
    /// chosen), and there is no Service Bus emulator to listen on.
    /// </summary>
    public static IEnumerable<FunctionEntry> LocallyFired(FunctionCatalog catalog) => catalog.Queues.Concat<FunctionEntry>(catalog.Timers);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var only = options.Value.LocalTriggerFunctions?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        bool Runs(FunctionEntry f) => only is null || only.Contains(f.Name, StringComparer.Ordinal);
        var fired = LocallyFired(catalog).ToList();
        foreach (var function in fired)
        {
            FunctionInvoker.EnsureBindable(function, p => p.ParameterType == typeof(CancellationToken) || p == function.TriggerParameter || LocalFunctionHost.IsDurableClient(p));
        }

        foreach (var function in catalog.ServiceBusQueues)
        {
            LogNotFiredLocally(function.Name);
        }

        var loops = fired.OfType<QueueFunction>().Where(Runs).Select(f => PollQueueAsync(f, stoppingToken))
            .Concat(fired.OfType<TimerFunction>().Where(Runs).Select(f => RunTimerAsync(f, stoppingToken)));
        return Task.WhenAll(loops);
    }

    private async Task PollQueueAsync(QueueFunction function, CancellationToken stoppingToken)
    {
        var queue = storage.Queues.GetQueueClient(names.Queue(function.QueueName));
        var poison = storage.Queues.GetQueueClient(names.Queue(StorageNames.PoisonOf(function.QueueName)));
        var settings = host.Queues;
        var maxIdle = LocalFunctionHost.PollingCap(clock, settings.MaxPollingInterval, QueuePump.MinPollingInterval);
        LogPolling(function.Name, queue.Name);
        await new QueuePump(queue, settings.BatchSize, settings.NewBatchThreshold, ProcessingLease).RunAsync(
            message => ProcessAsync(function, queue, poison, message, stoppingToken),
            e => LogPollFailed(e, function.Name),
            maxIdle,
            stoppingToken);
    }

    private async Task ProcessAsync(QueueFunction function, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        using var done = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var receipt = new LeaseReceipt(message.PopReceipt);
        var renewing = RenewLeaseAsync(queue, message.MessageId, receipt, done.Token);
        try
        {
            try
            {
                await InvokeAsync(function, function.TriggerParameter.ParameterType == typeof(string) ? message.Body.ToString() : message, stoppingToken);
            }
            finally
            {
                await done.CancelAsync();
                await renewing;
            }

            await queue.DeleteMessageAsync(message.MessageId, receipt.Current, CancellationToken.None);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the message becomes visible again when its lease ends.
        }
        catch (Exception e)
        {
            if (message.DequeueCount >= host.Queues.MaxDequeueCount)
            {
                LogPoisoned(e, function.Name, message.MessageId, message.DequeueCount);
                await poison.SendMessageAsync(message.Body.ToString(), TimeSpan.Zero, TimeSpan.FromSeconds(-1), CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, receipt.Current, CancellationToken.None);
            }
            else
            {
                LogInvocationFailed(e, function.Name, message.MessageId, message.DequeueCount);
                await queue.UpdateMessageAsync(message.MessageId, receipt.Current, visibilityTimeout: host.Queues.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
    }

    /// <summary>The pop receipt of a message in flight: each renewal of its lease replaces it.</summary>
    private sealed class LeaseReceipt(string popReceipt)
    {
        public string Current { get; set; } = popReceipt;
    }

    private async Task RenewLeaseAsync(QueueClient queue, string messageId, LeaseReceipt receipt, CancellationToken done)
    {
        try
        {
            while (true)
            {
                await Task.Delay(ProcessingLease / 3, done);
                // Not cancelled once sent: a renewal cut off after the queue took it would leave a pop receipt that no
                // longer matches, and the delete after the function would fail.
                var renewed = await queue.UpdateMessageAsync(messageId, receipt.Current, visibilityTimeout: ProcessingLease, cancellationToken: CancellationToken.None);
                receipt.Current = renewed.Value.PopReceipt;
            }
        }
        catch (OperationCanceledException) when (done.IsCancellationRequested)
        {
            // The function finished (or the app stops): the caller deletes or releases the message.
        }
        catch (Exception e)
        {
            // The function goes on; if its lease lapses meanwhile, the message may be taken again (redeliveries are safe).
            LogLeaseRenewalFailed(e, messageId);
        }
    }

    private async Task RunTimerAsync(TimerFunction function, CancellationToken stoppingToken)
    {
        var schedule = CronExpression.Parse(function.Schedule, CronFormat.IncludeSeconds);
        DateTimeOffset? last = null;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            var next = schedule.GetNextOccurrence(now, TimeZoneInfo.Utc);
            if (next is null)
            {
                return;
            }

            try
            {
                await Task.Delay(next.Value - now, stoppingToken);
                var timer = new TimerInfo
                {
                    IsPastDue = false,
                    ScheduleStatus = new ScheduleStatus { Last = (last ?? now).UtcDateTime, Next = schedule.GetNextOccurrence(next.Value, TimeZoneInfo.Utc)?.UtcDateTime ?? default, LastUpdated = DateTime.UtcNow },
                };
                last = next;
                await InvokeAsync(function, timer, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogInvocationFailed(e, function.Name, "timer", 1);
            }
        }
    }

    private Task InvokeAsync(FunctionEntry function, object trigger, CancellationToken stoppingToken) =>
        LocalFunctionHost.InvokeTriggerAsync(services, function, trigger, stoppingToken);

    [LoggerMessage(Level = LogLevel.Information, Message = "Local trigger driver: {Function} polls queue {Queue}")]
    private partial void LogPolling(string function, string queue);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Local trigger driver: {Function} is a Service Bus function, not fired locally (Storage queues carry the deliveries)")]
    private partial void LogNotFiredLocally(string function);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling for {Function} failed; retrying")]
    private partial void LogPollFailed(Exception exception, string function);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function} failed on message {MessageId} (attempt {DequeueCount}); it will be retried")]
    private partial void LogInvocationFailed(Exception exception, string function, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the lease of message {MessageId} failed")]
    private partial void LogLeaseRenewalFailed(Exception exception, string messageId);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function} failed on message {MessageId} {DequeueCount} times; moved to the poison queue")]
    private partial void LogPoisoned(Exception exception, string function, string messageId, long dequeueCount);
}
