using Microsoft.Extensions.Configuration;
using Nudge.Storage;

namespace Nudge.Testing;

/// <summary>
/// The Azurite that scripts/test.sh starts, reached through NUDGE_TEST_STORAGE. Each test gets its own name
/// prefix, so tests run in parallel against one emulator without seeing each other's data.
/// </summary>
public static class TestStorage
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("NUDGE_TEST_STORAGE")
        ?? throw new InvalidOperationException("NUDGE_TEST_STORAGE is not set: run the tests with ./scripts/test.sh, which starts Azurite.");

    public static string NewPrefix() => "t" + Guid.NewGuid().ToString("N")[..10];

    /// <param name="observer">Sees every storage request (tests count round trips with it).</param>
    public static StorageClients Clients(Azure.Core.Pipeline.HttpPipelinePolicy? observer = null) =>
        StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = ConnectionString,
        }).Build(), "AzureWebJobsStorage", observer);

    /// <summary>Polls until <paramref name="condition"/> holds or the timeout passes (integration tests wait on queues, not on sleeps).</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        T value;
        while (!condition(value = await probe()))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0.#} s waiting for {what}.");
            }

            await Task.Delay(50);
        }

        return value;
    }
}
