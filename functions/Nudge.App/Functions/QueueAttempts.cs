using System.Net.Http;
using Azure.Storage.Queues.Models;
using Nudge.App.Hosting;

namespace Nudge.App.Functions;

/// <summary>
/// A queue message's attempts as the host counts them: after its last failed attempt the host moves it to the poison
/// queue, so work that keeps state of its own records there why it stopped.
/// </summary>
public static class QueueAttempts
{
    /// <summary>
    /// Runs <paramref name="work"/>; when it fails on the message's last attempt, <paramref name="stall"/> is told why
    /// (by kind) before the failure goes on to the host, which poisons the message.
    /// </summary>
    public static async Task<T> StallingOnLastAttemptAsync<T>(QueueMessage message, HostJson host, Func<Task<T>> work, Func<string, Task> stall)
    {
        try
        {
            return await work();
        }
        catch (Exception e) when (e is not OperationCanceledException && message.DequeueCount >= host.Queues.MaxDequeueCount)
        {
            await stall(Describe(e, host));
            throw;
        }
    }

    /// <summary>What went wrong, by kind only: an exception's message may carry a URL's query, an address or a token.</summary>
    private static string Describe(Exception failure, HostJson host) =>
        $"gave up after {host.Queues.MaxDequeueCount} attempts ({failure.GetType().Name}"
        + (failure is HttpRequestException { StatusCode: { } status } ? $", HTTP {(int)status}" : "") + ")";
}
