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
    public static bool IsLast(QueueMessage message, HostJson host) => message.DequeueCount >= host.Queues.MaxDequeueCount;

    /// <summary>What went wrong, by kind only: an exception's message may carry a URL's query, an address or a token.</summary>
    public static string Describe(Exception failure, HostJson host) =>
        $"gave up after {host.Queues.MaxDequeueCount} attempts ({failure.GetType().Name}"
        + (failure is HttpRequestException { StatusCode: { } status } ? $", HTTP {(int)status}" : "") + ")";
}
