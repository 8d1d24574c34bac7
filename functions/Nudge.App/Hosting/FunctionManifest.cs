using System.Text.Json;

namespace Nudge.App.Hosting;

/// <summary>One trigger declaration read from a function.json file.</summary>
public sealed record FunctionTrigger(string FunctionName, string Type, string BindingName, string? QueueName, string? Connection, string? Schedule, string? Route, IReadOnlyList<string> Methods);

/// <summary>The queue settings of host.json that the local driver honours like the Functions host does.</summary>
/// <param name="NewBatchThreshold">When this few messages are still in flight, the next batch is fetched (the host's default is half a batch).</param>
public sealed record QueueHostSettings(TimeSpan MaxPollingInterval, TimeSpan VisibilityTimeout, int BatchSize, int NewBatchThreshold, int MaxDequeueCount)
{
    public static QueueHostSettings Defaults { get; } = new(TimeSpan.FromMinutes(1), TimeSpan.Zero, 16, 8, 5);
}

/// <summary>
/// The function app as the Functions host sees it: host.json and one folder per function with its function.json.
/// Read from the app's own output folder, so what runs locally is exactly what ships.
/// </summary>
public sealed class FunctionManifest
{
    private FunctionManifest(IReadOnlyList<FunctionTrigger> triggers, QueueHostSettings queues)
    {
        Triggers = triggers;
        Queues = queues;
    }

    public IReadOnlyList<FunctionTrigger> Triggers { get; }
    public QueueHostSettings Queues { get; }

    public static FunctionManifest Load(string scriptRoot)
    {
        var hostJson = Path.Combine(scriptRoot, "host.json");
        if (!File.Exists(hostJson))
        {
            throw new FileNotFoundException($"host.json not found in '{scriptRoot}': the app must run from its build output.", hostJson);
        }

        var triggers = Directory.EnumerateDirectories(scriptRoot)
            .Select(dir => Path.Combine(dir, "function.json"))
            .Where(File.Exists)
            .Select(ReadTrigger)
            .OrderBy(t => t.FunctionName, StringComparer.Ordinal)
            .ToList();
        return new FunctionManifest(triggers, ReadQueueSettings(hostJson));
    }

    private static FunctionTrigger ReadTrigger(string functionJson)
    {
        var name = Path.GetFileName(Path.GetDirectoryName(functionJson))!;
        using var document = JsonDocument.Parse(File.ReadAllText(functionJson));
        var trigger = document.RootElement.GetProperty("bindings").EnumerateArray()
            .SingleOrDefault(b => b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal));
        if (trigger.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{functionJson} declares no trigger binding.");
        }

        string? Get(string property) => trigger.TryGetProperty(property, out var v) ? v.GetString() : null;
        var methods = trigger.TryGetProperty("methods", out var m) ? m.EnumerateArray().Select(x => x.GetString()!).ToList() : [];
        return new FunctionTrigger(name, Get("type")!, Get("name")!, Get("queueName"), Get("connection"), Get("schedule"), Get("route"), methods);
    }

    private static QueueHostSettings ReadQueueSettings(string hostJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(hostJson));
        var defaults = QueueHostSettings.Defaults;
        if (!document.RootElement.TryGetProperty("extensions", out var extensions) || !extensions.TryGetProperty("queues", out var queues))
        {
            return defaults;
        }

        TimeSpan Time(string p, TimeSpan d) => queues.TryGetProperty(p, out var v) ? TimeSpan.Parse(v.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : d;
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
