using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace Nudge.Storage;

/// <summary>
/// Takes a queue's messages the way the Functions host's queue trigger does: a batch of up to
/// <paramref name="batchSize"/> processed concurrently, and the next batch fetched as soon as the messages still in
/// flight drop to <paramref name="newBatchThreshold"/> — not when the whole batch is done, so one message waiting on
/// a provider or a rate slot does not idle the others. Idle polls back off exponentially up to a cap.
/// </summary>
public sealed class QueuePump(QueueClient queue, int batchSize, int newBatchThreshold, TimeSpan lease)
{
    public static readonly TimeSpan MinPollingInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>Runs until <paramref name="stoppingToken"/> fires, then waits for the messages in flight.</summary>
    /// <param name="process">Handles one message, including its delete or retry.</param>
    /// <param name="failed">Told about a failed receive (the pump waits <paramref name="maxIdle"/> and goes on) or a failure <paramref name="process"/> let through.</param>
    public async Task RunAsync(Func<QueueMessage, Task> process, Action<Exception> failed, TimeSpan maxIdle, CancellationToken stoppingToken)
    {
        var inFlight = new HashSet<Task>();
        var idle = MinPollingInterval;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                while (inFlight.Count > newBatchThreshold)
                {
                    inFlight.Remove(await Task.WhenAny(inFlight));
                }

                QueueMessage[] batch;
                try
                {
                    batch = await queue.ReceiveMessagesAsync(batchSize, lease, stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    failed(e);
                    await Task.Delay(maxIdle, stoppingToken);
                    continue;
                }

                if (batch.Length == 0)
                {
                    // Nothing visible: finished work is collected here too, so the set does not grow while idle.
                    inFlight.RemoveWhere(t => t.IsCompleted);
                    await Task.Delay(idle, stoppingToken);
                    idle = TimeSpan.FromTicks(Math.Min(idle.Ticks * 2, maxIdle.Ticks));
                    continue;
                }

                idle = MinPollingInterval;
                foreach (var message in batch)
                {
                    inFlight.Add(ObserveAsync(process(message), failed, stoppingToken));
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is not in flight stays on the queue.
        }

        await Task.WhenAll(inFlight);
    }

    private static async Task ObserveAsync(Task processing, Action<Exception> failed, CancellationToken stoppingToken)
    {
        try
        {
            await processing;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: the message comes back when its lease ends.
        }
        catch (Exception e)
        {
            failed(e);
        }
    }
}
