using System.Collections.Concurrent;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>The queue pump the local trigger driver runs, on Azurite.</summary>
public class QueuePumpTests
{
    [Fact]
    public async Task Run_OneMessageOfTheBatchStillInFlight_FetchesTheNextBatch()
    {
        var queue = TestStorage.Clients().Queues.GetQueueClient(TestStorage.NewPrefix() + "-pump");
        await queue.CreateAsync();
        foreach (var body in new[] { "a", "b", "c" })
        {
            await queue.SendMessageAsync(body);
        }

        // The first message handled waits until both others are done: a pump that waited for its whole batch of two
        // before fetching more would never get to the third.
        var done = new ConcurrentBag<string>();
        var othersDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var first = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var pump = new QueuePump(queue, batchSize: 2, newBatchThreshold: 1, TimeSpan.FromMinutes(1));

        await pump.RunAsync(async message =>
        {
            if (Interlocked.Exchange(ref first, 1) == 0)
            {
                await othersDone.Task.WaitAsync(stop.Token);
            }

            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            done.Add(message.Body.ToString());
            if (done.Count == 2 && !othersDone.Task.IsCompleted)
            {
                othersDone.TrySetResult();
            }
            else if (done.Count == 3)
            {
                await stop.CancelAsync();
            }
        }, e => Assert.Fail(e.ToString()), TimeSpan.FromMilliseconds(200), stop.Token);

        Assert.Equal(["a", "b", "c"], done.Order());
    }
}
