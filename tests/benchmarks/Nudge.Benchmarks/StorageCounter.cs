using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Azure.Core;
using Nudge.App.Hosting;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>One kind of storage request: who made it, to which service, with which method, on which table/queue/container.</summary>
/// <param name="Stage">The function whose invocation made it, or <see cref="StorageCounter.NoFunction"/>.</param>
/// <param name="Resource">The table, queue or container as the request names it (with the run's prefix).</param>
/// <param name="EmptyReceive">A queue receive that found nothing: an idle poll.</param>
public sealed record StorageRequestKind(string Stage, string Service, string Method, string Resource, bool EmptyReceive);

/// <summary>
/// Counts every storage request of the clients it is added to (the app's, and the task hub's through the app's
/// observer), by <see cref="StorageRequestKind"/>. The same counter class serves the journeys and the bare
/// orchestration, so both sides are counted by one policy.
/// </summary>
public sealed partial class StorageCounter
{
    /// <summary>The stage of requests made outside any function invocation: webhook requests, the trigger driver's own
    /// receives and deletes, and the Durable Task Framework's dispatcher threads (orchestrator episodes, leases, polls).</summary>
    public const string NoFunction = "(no function)";

    private readonly Dictionary<StorageRequestKind, int> _counts = new();
    private readonly Dictionary<StorageRequestKind, long> _bytes = new();
    private readonly (string Authority, string Service)[] _services;

    public StorageCounter(Uri blobService, Uri queueService, Uri tableService)
    {
        // Told apart by endpoint: a queue's metadata request or a table batch carries no path or header that says
        // which service it is for.
        _services = [(blobService.Authority, "blob"), (queueService.Authority, "queue"), (tableService.Authority, "table")];
        Observer = new StorageObserver((message, _) => Count(message));
    }

    public StorageObserver Observer { get; }

    /// <summary>Forgets what was counted so far (start-up provisioning and seeding are not per-journey work).</summary>
    public void Reset()
    {
        lock (_counts)
        {
            _counts.Clear();
            _bytes.Clear();
        }
    }

    public IReadOnlyDictionary<StorageRequestKind, int> Snapshot()
    {
        lock (_counts)
        {
            return new Dictionary<StorageRequestKind, int>(_counts);
        }
    }

    /// <summary>Request and response bodies, in bytes, by kind: what the emulator parses and writes besides the request count.</summary>
    public IReadOnlyDictionary<StorageRequestKind, long> BytesSnapshot()
    {
        lock (_counts)
        {
            return new Dictionary<StorageRequestKind, long>(_bytes);
        }
    }

    /// <summary>The function whose invocation made the request (its activity), or none.</summary>
    private static string Stage()
    {
        for (var activity = Activity.Current; activity is not null; activity = activity.Parent)
        {
            if (activity.Source.Name == FunctionInvoker.ActivitySourceName)
            {
                return activity.OperationName;
            }
        }

        return NoFunction;
    }

    private void Count(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        var service = _services.FirstOrDefault(s => s.Authority == uri.Authority).Service ?? "other";
        var path = uri.AbsolutePath;
        var resource = path.EndsWith("$batch", StringComparison.Ordinal) ? BatchTable(message.Request.Content) : ResourceOf(path);
        var receive = service == "queue" && message.Request.Method == RequestMethod.Get && path.EndsWith("/messages", StringComparison.Ordinal)
            && !uri.Query.Contains("peekonly", StringComparison.OrdinalIgnoreCase);
        var empty = receive && !message.Response.Content.ToString().Contains("<QueueMessage>", StringComparison.Ordinal);
        var kind = new StorageRequestKind(Stage(), service, message.Request.Method.ToString(), resource, empty);
        var bytes = (message.Request.Content is { } sent && sent.TryComputeLength(out var length) ? length : 0)
            + (message.Response.ContentStream is { CanSeek: true } received ? received.Length : 0);
        lock (_counts)
        {
            _counts[kind] = _counts.GetValueOrDefault(kind) + 1;
            _bytes[kind] = _bytes.GetValueOrDefault(kind) + bytes;
        }
    }

    /// <summary>The table, queue or container a request addresses (Azurite's URLs put the account first).</summary>
    private static string ResourceOf(string path)
    {
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var name = segments.Length > 1 ? segments[1] : segments.LastOrDefault() ?? "";
        return name.Split('(')[0];
    }

    /// <summary>A table batch names its table only in the sub-requests of its body (the task hub writes history this way).</summary>
    private static string BatchTable(RequestContent? content)
    {
        if (content is null)
        {
            return "$batch";
        }

        using var buffer = new MemoryStream();
        content.WriteTo(buffer, CancellationToken.None);
        var match = BatchSubRequest().Match(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        return match.Success ? match.Groups[1].Value : "$batch";
    }

    [GeneratedRegex(@"(?:POST|PUT|PATCH|MERGE|DELETE|GET) https?://\S+/([A-Za-z][A-Za-z0-9]*)(?:\(|\?| HTTP)")]
    private static partial Regex BatchSubRequest();
}
