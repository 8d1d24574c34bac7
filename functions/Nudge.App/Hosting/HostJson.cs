using System.Globalization;
using System.Text.Json;

namespace Nudge.App.Hosting;

/// <summary>The queue settings of host.json that the local run honours like the Functions host does.</summary>
/// <param name="NewBatchThreshold">When this few messages are still in flight, the next batch is fetched (the host's default is half a batch).</param>
public sealed record QueueHostSettings(TimeSpan MaxPollingInterval, TimeSpan VisibilityTimeout, int BatchSize, int NewBatchThreshold, int MaxDequeueCount)
{
    public static QueueHostSettings Defaults { get; } = new(TimeSpan.FromMinutes(1), TimeSpan.Zero, 16, 8, 5);
}

/// <summary>
/// The settings of host.json that the local run needs: the HTTP route prefix and the queue trigger settings. Read
/// from the app's own output folder, so what runs locally is configured by exactly what ships.
/// </summary>
public sealed record HostJson(string RoutePrefix, QueueHostSettings Queues, TaskHubSettings DurableTask)
{
    public static HostJson Load(string scriptRoot)
    {
        var path = Path.Combine(scriptRoot, "host.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"host.json not found in '{scriptRoot}': the app must run from its build output.", path);
        }

        using var document = JsonDocument.Parse(File.ReadAllText(path));
        var extensions = document.RootElement.TryGetProperty("extensions", out var e) ? e : default;
        var routePrefix = extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("http", out var http) && http.TryGetProperty("routePrefix", out var prefix)
            ? prefix.GetString() ?? "api"
            : "api";
        var queues = extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("queues", out var q) ? ReadQueues(q) : QueueHostSettings.Defaults;
        var durable = extensions.ValueKind == JsonValueKind.Object && extensions.TryGetProperty("durableTask", out var d) && d.TryGetProperty("storageProvider", out var provider)
            ? provider
            : default;
        var taskHub = new TaskHubSettings(
            TaskHubSettings.DefaultHubName,
            durable.ValueKind == JsonValueKind.Object && durable.TryGetProperty("partitionCount", out var partitions) ? partitions.GetInt32() : 4,
            durable.ValueKind == JsonValueKind.Object && durable.TryGetProperty("maxQueuePollingInterval", out var polling)
                ? TimeSpan.Parse(polling.GetString()!, CultureInfo.InvariantCulture)
                : TimeSpan.FromSeconds(30));
        return new HostJson(routePrefix, queues, taskHub);
    }

    private static QueueHostSettings ReadQueues(JsonElement queues)
    {
        var defaults = QueueHostSettings.Defaults;
        TimeSpan Time(string p, TimeSpan d) => queues.TryGetProperty(p, out var v) ? TimeSpan.Parse(v.GetString()!, CultureInfo.InvariantCulture) : d;
        int Int(string p, int d) => queues.TryGetProperty(p, out var v) ? v.GetInt32() : d;
        var batchSize = Int("batchSize", defaults.BatchSize);
        return new QueueHostSettings(
            Time("maxPollingInterval", defaults.MaxPollingInterval),
            Time("visibilityTimeout", defaults.VisibilityTimeout),
            batchSize,
            Int("newBatchThreshold", batchSize / 2),
            Int("maxDequeueCount", defaults.MaxDequeueCount));
    }
}
