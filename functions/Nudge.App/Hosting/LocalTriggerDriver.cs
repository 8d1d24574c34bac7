using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using Cronos;
using Microsoft.Extensions.Options;
using Nudge.Storage;
using System.Text.Json;
using Nudge.Core.Time;

namespace Nudge.App.Hosting;

/// <summary>
/// Outside the Functions host, fires the queue and timer triggers declared in function.json the way the host
/// would: polls each queue with backoff up to host.json's maxPollingInterval, takes batches of batchSize and the next
/// one when newBatchThreshold are left in flight (<see cref="QueuePump"/>), deletes a message after success,
/// makes it visible again after host.json's visibilityTimeout on failure, and moves it to "&lt;queue&gt;-poison" after
/// maxDequeueCount attempts. Timers follow their NCRONTAB schedule (with seconds) in real time.
/// With a fast virtual clock the polling cap shrinks to about one virtual minute, so queue latency does not
/// stretch into virtual hours (and push a daytime message into the night).
/// </summary>
public sealed partial class LocalTriggerDriver(
    FunctionDispatcher dispatcher,
    FunctionManifest manifest,
    StorageClients storage,
    StorageNames names,
    VirtualClock clock,
    IServiceProvider services,
    IOptions<NudgeOptions> options,
    ILogger<LocalTriggerDriver> logger) : BackgroundService
{
    /// <summary>How long a message stays hidden while a handler works on it.</summary>
    private static readonly TimeSpan ProcessingLease = TimeSpan.FromMinutes(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var only = options.Value.LocalTriggerFunctions?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var loops = dispatcher.Triggers.Where(t => only is null || only.Contains(t.FunctionName, StringComparer.Ordinal)).Select(trigger => trigger.Type switch
        {
            "queueTrigger" => PollQueueAsync(trigger, stoppingToken),
            "timerTrigger" => RunTimerAsync(trigger, stoppingToken),
            _ => throw new NotSupportedException($"Trigger type '{trigger.Type}' of {trigger.FunctionName} is not supported locally."),
        });
        return Task.WhenAll(loops);
    }

    private async Task PollQueueAsync(FunctionTrigger trigger, CancellationToken stoppingToken)
    {
        var queue = storage.Queues.GetQueueClient(names.Queue(trigger.QueueName!));
        var poison = storage.Queues.GetQueueClient(names.Queue(StorageNames.PoisonOf(trigger.QueueName!)));
        var settings = manifest.Queues;
        var maxIdle = TimeSpan.FromTicks(Math.Min(settings.MaxPollingInterval.Ticks, Math.Max(QueuePump.MinPollingInterval.Ticks, clock.ToRealDelay(TimeSpan.FromMinutes(1)).Ticks)));
        LogPolling(trigger.FunctionName, queue.Name);
        await new QueuePump(queue, settings.BatchSize, settings.NewBatchThreshold, ProcessingLease).RunAsync(
            message => ProcessAsync(trigger, queue, poison, message, stoppingToken),
            e => LogPollFailed(e, trigger.FunctionName),
            maxIdle,
            stoppingToken);
    }

    private async Task ProcessAsync(FunctionTrigger trigger, QueueClient queue, QueueClient poison, QueueMessage message, CancellationToken stoppingToken)
    {
        var request = new InvocationRequest
        {
            Data = new() { [trigger.BindingName] = JsonSerializer.SerializeToElement(message.Body.ToString()) },
            Metadata = new()
            {
                ["Id"] = JsonSerializer.SerializeToElement(message.MessageId),
                ["DequeueCount"] = JsonSerializer.SerializeToElement(message.DequeueCount),
            },
        };

        try
        {
            await using var scope = services.CreateAsyncScope();
            await dispatcher.InvokeAsync(trigger.FunctionName, request, scope.ServiceProvider, stoppingToken);
            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: the message becomes visible again when its lease ends.
        }
        catch (Exception e)
        {
            if (message.DequeueCount >= manifest.Queues.MaxDequeueCount)
            {
                LogPoisoned(e, trigger.FunctionName, message.MessageId, message.DequeueCount);
                await poison.SendMessageAsync(message.Body.ToString(), TimeSpan.Zero, TimeSpan.FromSeconds(-1), CancellationToken.None);
                await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, CancellationToken.None);
            }
            else
            {
                LogInvocationFailed(e, trigger.FunctionName, message.MessageId, message.DequeueCount);
                await queue.UpdateMessageAsync(message.MessageId, message.PopReceipt, visibilityTimeout: manifest.Queues.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
    }

    private async Task RunTimerAsync(FunctionTrigger trigger, CancellationToken stoppingToken)
    {
        var schedule = CronExpression.Parse(trigger.Schedule ?? throw new InvalidDataException($"{trigger.FunctionName} has no schedule."), CronFormat.IncludeSeconds);
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
                var request = new InvocationRequest
                {
                    Data = new() { [trigger.BindingName] = JsonSerializer.SerializeToElement(new { Schedule = new { }, IsPastDue = false }) },
                };
                await using var scope = services.CreateAsyncScope();
                await dispatcher.InvokeAsync(trigger.FunctionName, request, scope.ServiceProvider, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogInvocationFailed(e, trigger.FunctionName, "timer", 1);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local trigger driver: {Function} polls queue {Queue}")]
    private partial void LogPolling(string function, string queue);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Polling for {Function} failed; retrying")]
    private partial void LogPollFailed(Exception exception, string function);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Function} failed on message {MessageId} (attempt {DequeueCount}); it will be retried")]
    private partial void LogInvocationFailed(Exception exception, string function, string messageId, long dequeueCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Function} failed on message {MessageId} {DequeueCount} times; moved to the poison queue")]
    private partial void LogPoisoned(Exception exception, string function, string messageId, long dequeueCount);
}
