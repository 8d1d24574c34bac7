using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Queues;
using Nudge.Core.Ingest;
using Nudge.Testing;

// Ingest load generator. Everything targets 127.0.0.1 and every loop is bounded in count and time.
//   load  --app URL --secret S --customers N --dup-percent P --seconds S --half-seconds H --concurrency C --storage CONN --prefix P
//   proxy --listen PORT --target PORT   (counts storage requests; prints the count on each line of stdin)
//   bare  --url URL                     (the baseline: a bare Kestrel endpoint that reads the body and answers 200)
//   floor --url URL --storage CONN --prefix P   (the cheapest durable acknowledgement: bare + group-committed queue writes)
//   emulator --storage CONN --storage-pid PID --prefix P   (the emulator's CPU per storage request, by kind and size)
//   cold  --packages DIR,DIR --storage CONN --trials N   (cold start of packaged apps, the first one the baseline)
var mode = args.Length > 0 ? args[0] : "load";
var options = Options.Parse(args.Skip(1).ToArray());
return mode switch
{
    "proxy" => await CountingProxy.RunAsync(options),
    "ops" => await Load.OpsAsync(options),
    "bare" => await BareKestrel.RunAsync(options),
    "floor" => await DurableFloor.RunAsync(options),
    "emulator" => await EmulatorCost.RunAsync(options),
    "cold" => await ColdStart.RunAsync(options),
    _ => await Load.RunAsync(options),
};

internal sealed record Options(Dictionary<string, string> Values)
{
    public static Options Parse(string[] args) =>
        new(Enumerable.Range(0, args.Length / 2).ToDictionary(i => args[2 * i].TrimStart('-'), i => args[2 * i + 1]));

    public string Get(string name, string fallback) => Values.TryGetValue(name, out var v) ? v : fallback;

    public int Int(string name, int fallback) => int.Parse(Get(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
}

/// <summary>One signed Shopify customers/create delivery (~730 bytes), prepared before the clock starts.</summary>
internal sealed record Delivery(string Id, byte[] Body, string Signature, bool IsDuplicate);

internal static class Load
{
    private const string Shop = "bench-shop.myshopify.com";

    public static async Task<int> RunAsync(Options o)
    {
        var app = new Uri(o.Get("app", "http://127.0.0.1:7173"));
        var secret = o.Get("secret", "bench-shopify-webhook-secret");
        var customers = o.Int("customers", 100_000);
        var dupPercent = o.Int("dup-percent", 5);
        var seconds = o.Int("seconds", 60);
        var halfSeconds = o.Int("half-seconds", 20);
        var concurrency = o.Int("concurrency", 64);
        var warmSeconds = o.Int("warm-seconds", 20);
        var deliveries = Prepare(customers, dupPercent, secret);
        Console.WriteLine($"prepared {deliveries.Count} deliveries for {customers} customers ({dupPercent}% duplicate delivery ids), body ~{deliveries.Average(d => d.Body.Length):0} bytes");

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };

        // Baseline: a bare Kestrel endpoint that reads the body and answers 200, in its own process as the app is
        // (started by run.sh), same client, same machine, in this run.
        var bareUrl = new Uri(o.Get("bare", "http://127.0.0.1:7175"));
        var cpu = new CpuMeter(o.Int("app-pid", 0), o.Int("storage-pid", 0), o.Int("bare-pid", 0), o.Int("floor-pid", 0));
        var floorRatio = double.NaN;
        await ClosedLoopAsync(http, bareUrl, deliveries, concurrency, TimeSpan.FromSeconds(3), signed: false); // warm-up
        cpu.Lap();
        var bare = await ClosedLoopAsync(http, bareUrl, deliveries, concurrency, TimeSpan.FromSeconds(Math.Min(seconds, 15)), signed: false);
        var bareCpu = cpu.Lap();
        Console.WriteLine($"bare kestrel: {bare.Rate:0} req/s ({bare.Ok} ok); CPU per request: client {bareCpu.Bench / bare.Sent:0} µs, server {bareCpu.Bare / bare.Sent:0} µs");

        // The floor: the same signed requests to the cheapest durable acknowledgement this machine allows (the bare
        // endpoint plus group-committed queue writes; no verification, parsing or dedupe). No design of the real path can
        // beat its ratio here: it is the ceiling the storage emulator and the client leave on these cores.
        var floorUrl = o.Get("floor", "");
        if (floorUrl.Length > 0)
        {
            await ClosedLoopAsync(http, new Uri(floorUrl), deliveries, concurrency, TimeSpan.FromSeconds(3), signed: true); // warm-up
            cpu.Lap();
            var floor = await ClosedLoopAsync(http, new Uri(floorUrl), deliveries, concurrency, TimeSpan.FromSeconds(Math.Min(seconds, 15)), signed: true);
            var floorCpu = cpu.Lap();
            Console.WriteLine($"durable floor: {floor.Rate:0} req/s ({floor.Ok} ok, {floor.Errors} errors), {floor.Rate / bare.Rate:0.00} of bare; CPU per request: client {floorCpu.Bench / floor.Sent:0} µs, server {floorCpu.Floor / floor.Sent:0} µs, Azurite {floorCpu.Storage / floor.Sent:0} µs");
            floorRatio = floor.Rate / bare.Rate;
        }

        // The app is measured in its steady state, as the bare server is: a warm-up on deliveries of their own (stored
        // and counted below like the rest) until its JIT has tiered up. The app has far more code to tier than the bare
        // endpoint: after 1-2 s of warm-up it spent 94 µs per request, after 10 s 52 µs (docs/benchmarks.md).
        var webhook = new Uri(app, "/api/webhooks/shopify");
        var warm = await ClosedLoopAsync(http, webhook, deliveries.GetRange(0, deliveries.Count / 4), concurrency, TimeSpan.FromSeconds(warmSeconds), signed: true);
        Console.WriteLine($"app warm-up: {warm.Sent} deliveries in {warm.Elapsed.TotalSeconds:0.0} s");
        var measured = deliveries.Skip(warm.Sent).ToList();

        // Max rate on the real ingest path: verify, dedupe, make durable (group commit), acknowledge. At most 70% of
        // the deliveries, so the latency run below has its own.
        cpu.Lap();
        var max = await ClosedLoopAsync(http, webhook, measured.Take(measured.Count * 7 / 10).ToList(), concurrency, TimeSpan.FromSeconds(seconds), signed: true);
        var maxCpu = cpu.Lap();
        Console.WriteLine($"ingest max: {max.Rate:0} accepted req/s ({max.Ok} ok: {max.Accepted} accepted, {max.Duplicates} duplicate; {max.Errors} errors) over {max.Elapsed.TotalSeconds:0.0} s");
        Console.WriteLine($"  CPU per request: client {maxCpu.Bench / max.Sent:0} µs, app {maxCpu.App / max.Sent:0} µs, Azurite {maxCpu.Storage / max.Sent:0} µs (the app's batch processing included)");

        // Latency at half the max rate, open loop (requests start on schedule whatever the answers do).
        var rest = measured.Skip(max.Sent).ToList();
        // Beside it, two probes every 20 ms tell where a slow answer waited: a bare-endpoint request (this process and
        // the machine) and a small message written straight to the emulator's queue service (the storage).
        using var probesDone = new CancellationTokenSource();
        var probes = ProbeAsync(http, bareUrl, Queue(o, "latency-probe"), probesDone.Token);
        var half = await OpenLoopAsync(http, webhook, rest, Math.Max(1, max.Rate / 2), TimeSpan.FromSeconds(halfSeconds));
        await probesDone.CancelAsync();
        var (bareProbe, storageProbe) = await probes;
        Console.WriteLine($"ingest at {max.Rate / 2:0} req/s: p50 {half.P50:0.0} ms, p99 {half.P99:0.0} ms, max {half.Max:0.0} ms ({half.Ok} ok, {half.Errors} errors)");
        Console.WriteLine($"  probes meanwhile: bare endpoint p99 {bareProbe.P99:0.0} ms, max {bareProbe.Max:0.0} ms; storage queue write p99 {storageProbe.P99:0.0} ms, max {storageProbe.Max:0.0} ms");

        // Duplicates processed: event references handed to the journeys beyond one per distinct delivery (the journeys
        // are off, so every journey-events message is still queued), once the intake batches are all processed.
        var accepted = warm.Accepted + max.Accepted + half.Accepted;
        var distinctSent = deliveries.Take(warm.Sent + max.Sent + half.Sent).Select(d => d.Id).Distinct().Count();
        if (o.Int("drain-minutes", 10) == 0)
        {
            Console.WriteLine();
            Console.WriteLine($"RESULT ratio accepted/bare = {max.Rate / bare.Rate:0.00} ({max.Rate:0} / {bare.Rate:0} req/s), intake only; durable floor/bare = {floorRatio:0.00}");
            Console.WriteLine($"RESULT p99 at half max rate = {half.P99:0.0} ms (p50 {half.P50:0.0} ms), intake only");
            return 0; // nothing processed: no duplicates to count
        }

        var drained = await DrainAsync(o, TimeSpan.FromMinutes(o.Int("drain-minutes", 10)));
        Console.WriteLine($"intake batches processed {drained.TotalSeconds:0} s after the load ended");
        var (references, distinctReferences) = await JourneyReferencesAsync(o);
        var duplicatesProcessed = references - distinctReferences;
        Console.WriteLine($"distinct deliveries sent {distinctSent}, accepted {accepted}, event references queued for the journeys {references} ({distinctReferences} distinct; missing {distinctSent - distinctReferences}): duplicates processed {duplicatesProcessed}");

        Console.WriteLine();
        Console.WriteLine($"RESULT ratio accepted/bare = {max.Rate / bare.Rate:0.00} ({max.Rate:0} / {bare.Rate:0} req/s); durable floor/bare = {floorRatio:0.00}");
        Console.WriteLine($"RESULT p99 at half max rate = {half.P99:0.0} ms (p50 {half.P50:0.0} ms)");
        Console.WriteLine($"RESULT duplicates processed = {duplicatesProcessed}");
        return 0;
    }

    /// <summary>Storage operations per event: the app talks to Azurite through the counting proxy; count around a bounded run.</summary>
    public static async Task<int> OpsAsync(Options o)
    {
        var app = new Uri(o.Get("app", "http://127.0.0.1:7174"));
        var counter = new Uri(o.Get("counter", "http://127.0.0.1:10315/__count"));
        var deliveries = Prepare(o.Int("customers", 2000), o.Int("dup-percent", 5), o.Get("secret", "bench-shopify-webhook-secret"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var before = long.Parse(await http.GetStringAsync(counter), CultureInfo.InvariantCulture);
        var run = await ClosedLoopAsync(http, new Uri(app, "/api/webhooks/shopify"), deliveries, o.Int("concurrency", 16), TimeSpan.FromMinutes(5), signed: true);
        await DrainAsync(o, TimeSpan.FromMinutes(5)); // the asynchronous part counts too
        var after = long.Parse(await http.GetStringAsync(counter), CultureInfo.InvariantCulture);
        var ops = after - before;
        Console.WriteLine($"ops run: {run.Sent} deliveries ({run.Accepted} accepted, {run.Duplicates} duplicate, {run.Errors} errors), {ops} storage requests");
        Console.WriteLine($"RESULT storage operations per accepted event = {(double)ops / Math.Max(1, run.Accepted):0.00} (per delivery incl. duplicates {(double)ops / Math.Max(1, run.Sent):0.00})");
        return 0;
    }

    /// <summary>Customer i, one delivery each, plus dupPercent% re-deliveries of earlier ids (same body, same id), spread through the run.</summary>
    internal static List<Delivery> Prepare(int customers, int dupPercent, string secret)
    {
        var random = new Random(42);
        var list = new List<Delivery>(customers + customers * dupPercent / 100);
        var key = Encoding.UTF8.GetBytes(secret);
        for (var i = 1; i <= customers; i++)
        {
            var body = Encoding.UTF8.GetBytes(BenchDeliveries.CustomerJson(i));
            var delivery = new Delivery(Guid.NewGuid().ToString(), body, WebhookSignature.Compute(body, key), false);
            list.Add(delivery);
            if (random.Next(100) < dupPercent)
            {
                var earlier = list[random.Next(list.Count)];
                list.Add(earlier with { IsDuplicate = true });
            }
        }

        return list;
    }

    private sealed class Counters
    {
        public int Sent;
        public int Ok;
        public int Accepted;
        public int Duplicates;
        public int Errors;
    }

    internal sealed record Run(int Sent, int Ok, int Accepted, int Duplicates, int Errors, TimeSpan Elapsed)
    {
        public double Rate => Ok / Elapsed.TotalSeconds;
    }

    private static HttpRequestMessage Request(Uri url, Delivery d, bool signed)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(d.Body) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
        if (signed)
        {
            request.Headers.TryAddWithoutValidation("X-Shopify-Topic", "customers/create");
            request.Headers.TryAddWithoutValidation("X-Shopify-Shop-Domain", Shop);
            request.Headers.TryAddWithoutValidation("X-Shopify-Webhook-Id", d.Id);
            request.Headers.TryAddWithoutValidation("X-Shopify-Hmac-Sha256", d.Signature);
        }

        return request;
    }

    private static async Task<string?> SendAsync(HttpClient http, Uri url, Delivery d, bool signed, Counters c)
    {
        try
        {
            using var response = await http.SendAsync(Request(url, d, signed));
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.OK)
            {
                Interlocked.Increment(ref c.Errors);
                return null;
            }

            Interlocked.Increment(ref c.Ok);
            if (text.Contains("\"duplicate\"", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref c.Duplicates);
            }
            else if (signed)
            {
                Interlocked.Increment(ref c.Accepted);
            }

            return text;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            Interlocked.Increment(ref c.Errors);
            return null;
        }
    }

    internal static async Task<Run> ClosedLoopAsync(HttpClient http, Uri url, List<Delivery> deliveries, int concurrency, TimeSpan duration, bool signed)
    {
        var c = new Counters();
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            while (clock.Elapsed < duration)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= deliveries.Count)
                {
                    if (signed)
                    {
                        return;
                    }

                    i %= deliveries.Count; // the bare endpoint keeps nothing: reuse the prepared requests
                }

                Interlocked.Increment(ref c.Sent);
                await SendAsync(http, url, deliveries[i], signed, c);
            }
        }));
        return new Run(c.Sent, c.Ok, c.Accepted, c.Duplicates, c.Errors, clock.Elapsed);
    }

    private sealed record Latency(int Sent, int Ok, int Accepted, int Errors, double P50, double P99, double Max);

    private static async Task<Latency> OpenLoopAsync(HttpClient http, Uri url, List<Delivery> deliveries, double rate, TimeSpan duration)
    {
        var c = new Counters();
        var latencies = new ConcurrentBag<double>();
        var tasks = new List<Task>();
        var clock = Stopwatch.StartNew();
        var count = (int)Math.Min(deliveries.Count, rate * duration.TotalSeconds);
        for (var i = 0; i < count; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            var delivery = deliveries[i];
            c.Sent++;
            tasks.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                if (await SendAsync(http, url, delivery, true, c) is not null)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
            }));
        }

        await Task.WhenAll(tasks);
        var sorted = latencies.Order().ToArray();
        return new Latency(c.Sent, c.Ok, c.Accepted, c.Errors, Percentile(sorted, 0.50), Percentile(sorted, 0.99), Percentile(sorted, 1));
    }

    private sealed record Probe(double P99, double Max);

    private static async Task<(Probe Bare, Probe Storage)> ProbeAsync(HttpClient http, Uri bareUrl, QueueClient queue, CancellationToken stop)
    {
        await queue.CreateIfNotExistsAsync();
        var bare = new List<double>();
        var storage = new List<double>();
        var body = new Delivery("probe", "{}"u8.ToArray(), "", false);
        while (!stop.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            (await http.SendAsync(Request(bareUrl, body, signed: false))).Dispose();
            bare.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);

            started = Stopwatch.GetTimestamp();
            await queue.SendMessageAsync("probe");
            storage.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        static Probe Of(List<double> values)
        {
            var sorted = values.Order().ToArray();
            return new Probe(Percentile(sorted, 0.99), Percentile(sorted, 1));
        }

        return (Of(bare), Of(storage));
    }

    /// <summary>The value at quantile <paramref name="q"/> of ascending values (1: the largest); NaN if there are none.</summary>
    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(q * sorted.Length))];

    private static QueueClient Queue(Options o, string name)
    {
        var prefix = o.Get("prefix", "");
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 }; // as the app writes them
        return new QueueServiceClient(o.Get("storage", "UseDevelopmentStorage=true"), options).GetQueueClient(prefix.Length == 0 ? name : $"{prefix.ToLowerInvariant()}-{name}");
    }

    /// <summary>Waits (bounded) until the ingest-batches queue is empty: every acknowledged delivery processed. Polls directly, not through the counting proxy.</summary>
    private static async Task<TimeSpan> DrainAsync(Options o, TimeSpan limit)
    {
        var queue = Queue(o, "ingest-batches");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < limit && (await queue.GetPropertiesAsync()).Value.ApproximateMessagesCount > 0)
        {
            await Task.Delay(500);
        }

        return clock.Elapsed;
    }

    /// <summary>Every event reference in the journey-events queue (one per single-event message, several per batch message), and how many distinct.</summary>
    private static async Task<(int References, int Distinct)> JourneyReferencesAsync(Options o)
    {
        var queue = Queue(o, "journey-events");
        var ids = new List<string>();
        for (var round = 0; round < 100_000; round++)
        {
            var messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(10))).Value;
            if (messages.Length == 0)
            {
                break;
            }

            foreach (var message in messages)
            {
                using var json = JsonDocument.Parse(message.Body.ToString());
                ids.AddRange(json.RootElement.TryGetProperty("events", out var events)
                    ? events.EnumerateArray().Select(e => e.GetProperty("eventId").GetString()!)
                    : [json.RootElement.GetProperty("eventId").GetString()!]);
            }
        }

        return (ids.Count, ids.Distinct().Count());
    }
}

internal static class BareKestrel
{
    /// <summary>Serves until killed, in a process of its own as the app under test is (run.sh starts both).</summary>
    public static async Task<int> RunAsync(Options o)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(o.Get("url", "http://127.0.0.1:7175"));
        var app = builder.Build();
        app.MapPost("/", async (HttpRequest request) =>
        {
            var buffer = new byte[4096];
            while (await request.Body.ReadAsync(buffer) > 0)
            {
            }

            return Results.Ok();
        });
        await app.RunAsync();
        return 0;
    }
}

/// <summary>
/// The cheapest durable acknowledgement on this machine, a lower bound for the real ingest path's cost: the bare
/// endpoint, plus each body made durable before its 200 by group commit (one writer; what arrives during a write goes
/// in the next, gzipped, as the app's intake does). No verification, parsing or dedupe. Run it with the app's
/// thread-pool setting (DOTNET_ThreadPool_UnfairSemaphoreSpinLimit=0), so idle workers do not spin while writes wait.
/// </summary>
internal static class DurableFloor
{
    public static async Task<int> RunAsync(Options o)
    {
        var prefix = o.Get("prefix", "");
        var queue = new QueueServiceClient(o.Get("storage", "UseDevelopmentStorage=true"), new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 })
            .GetQueueClient(prefix.Length == 0 ? "floor-intake" : $"{prefix.ToLowerInvariant()}-floor-intake");
        await queue.CreateIfNotExistsAsync();
        var gate = new Lock();
        var pending = new List<(byte[] Body, TaskCompletionSource Durable)>();
        var writing = false;

        async Task WriteWhilePendingAsync()
        {
            while (true)
            {
                List<(byte[] Body, TaskCompletionSource Durable)> batch;
                lock (gate)
                {
                    batch = pending.GetRange(0, Math.Min(pending.Count, 100));
                    pending.RemoveRange(0, batch.Count);
                    if (batch.Count == 0)
                    {
                        writing = false;
                        return;
                    }
                }

                using var buffer = new MemoryStream();
                using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
                {
                    batch.ForEach(p => gzip.Write(p.Body));
                }

                try
                {
                    await queue.SendMessageAsync(Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length));
                    batch.ForEach(p => p.Durable.TrySetResult());
                }
                catch (Exception e)
                {
                    batch.ForEach(p => p.Durable.TrySetException(e));
                }
            }
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(o.Get("url", "http://127.0.0.1:7176"));
        var app = builder.Build();
        app.MapPost("/", async (HttpRequest request) =>
        {
            var body = new byte[request.ContentLength ?? 0];
            await request.Body.ReadExactlyAsync(body);
            var durable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var lead = false;
            lock (gate)
            {
                pending.Add((body, durable));
                lead = !writing;
                writing = true;
            }

            if (lead)
            {
                _ = Task.Run(WriteWhilePendingAsync);
            }

            await durable.Task;
            return Results.Text("""{"status":"accepted"}""", "application/json");
        });
        await app.RunAsync();
        return 0;
    }
}

/// <summary>
/// What one storage request costs the emulator in CPU, whatever the code that sends it: a queue message (small and
/// of an intake batch's size), a table insert, a blob upload. Two requests in flight, as many as the intake keeps.
/// Every design that persists before it answers pays at least one of these per write on the same two cores.
/// </summary>
internal static class EmulatorCost
{
    public static async Task<int> RunAsync(Options o)
    {
        var connection = o.Get("storage", "UseDevelopmentStorage=true");
        var storagePid = o.Int("storage-pid", 0);
        var name = $"{o.Get("prefix", "emu").ToLowerInvariant()}emu";
        var queue = new QueueClient(connection, name, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
        var table = new Azure.Data.Tables.TableClient(connection, name);
        var blobs = new Azure.Storage.Blobs.BlobContainerClient(connection, name);
        await queue.CreateIfNotExistsAsync();
        await table.CreateIfNotExistsAsync();
        await blobs.CreateIfNotExistsAsync();
        var small = "{}";
        var batchSized = new string('x', 10_000); // about what a gzipped batch of 50 deliveries is
        var blobBody = BinaryData.FromString(batchSized);
        var kinds = new (string Name, Func<int, Task> Send)[]
        {
            ("queue message, 2 bytes", _ => queue.SendMessageAsync(small)),
            ("queue message, 10 KB", _ => queue.SendMessageAsync(batchSized)),
            ("table insert", i => table.AddEntityAsync(new Azure.Data.Tables.TableEntity($"p{i}", Guid.NewGuid().ToString("N")) { ["Value"] = "small" })),
            ("blob upload, 10 KB", i => blobs.GetBlobClient($"b{i}-{Guid.NewGuid():N}").UploadAsync(blobBody)),
        };
        foreach (var (kind, send) in kinds)
        {
            const int Warm = 200, Measured = 1_000;
            for (var i = 0; i < Warm; i++)
            {
                await send(-i - 1);
            }

            var before = CpuMeter.Of(storagePid);
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, Measured), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (i, _) => await send(i));
            Console.WriteLine($"emulator: {kind}: {(CpuMeter.Of(storagePid) - before) / Measured:0} µs of Azurite CPU per request ({Measured / clock.Elapsed.TotalSeconds:0} requests/s at 2 in flight)");
        }

        return 0;
    }
}

/// <summary>
/// A reverse proxy in front of Azurite's three ports that counts the storage requests passing through (a table
/// batch is one request, as it is one storage transaction). <c>GET /__count</c> on any of its ports answers the count.
/// </summary>
internal static class CountingProxy
{
    private static readonly HashSet<string> Hop = new(StringComparer.OrdinalIgnoreCase) { "Host", "Connection", "Transfer-Encoding", "Keep-Alive" };

    public static async Task<int> RunAsync(Options o)
    {
        // listen ports map to target ports in order: blob, queue, table
        var listen = o.Get("listen", "10313,10314,10315").Split(',').Select(int.Parse).ToArray();
        var target = o.Get("target", "10310,10311,10312").Split(',').Select(int.Parse).ToArray();
        var map = listen.Zip(target).ToDictionary(p => p.First, p => new Uri($"http://127.0.0.1:{p.Second}"));
        var count = 0L;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(listen.Select(p => $"http://127.0.0.1:{p}").ToArray());
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        var app = builder.Build();
        using var http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false, AutomaticDecompression = DecompressionMethods.None });
        app.Run(async context =>
        {
            var request = context.Request;
            if (request.Path == "/__count")
            {
                await context.Response.WriteAsync(Interlocked.Read(ref count).ToString(CultureInfo.InvariantCulture));
                return;
            }

            Interlocked.Increment(ref count);
            var target = map[context.Connection.LocalPort];
            using var forward = new HttpRequestMessage(new HttpMethod(request.Method), new Uri(target.GetLeftPart(UriPartial.Authority) + context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));
            var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            if (request.ContentLength is not null || request.Headers.ContentType.Count > 0)
            {
                forward.Content = new ByteArrayContent(body.ToArray()); // no content (and so no Content-Length) where none came: it is signed
            }

            foreach (var (name, values) in request.Headers)
            {
                if (!Hop.Contains(name) && !forward.Headers.TryAddWithoutValidation(name, values.ToArray()))
                {
                    forward.Content?.Headers.TryAddWithoutValidation(name, values.ToArray());
                }
            }

            using var response = await http.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead);
            context.Response.StatusCode = (int)response.StatusCode;
            foreach (var (name, values) in response.Headers.Concat(response.Content.Headers))
            {
                if (!Hop.Contains(name))
                {
                    context.Response.Headers[name] = values.ToArray();
                }
            }

            await response.Content.CopyToAsync(context.Response.Body);
        });
        await app.RunAsync();
        return 0;
    }
}

/// <summary>CPU time (µs) used between laps by this process, the app, Azurite, the bare server and the durable floor (from /proc; 0 for a pid not given).</summary>
internal sealed class CpuMeter(int appPid, int storagePid, int barePid = 0, int floorPid = 0)
{
    private Sample _last = Read(appPid, storagePid, barePid, floorPid);

    public Sample Lap()
    {
        var now = Read(appPid, storagePid, barePid, floorPid);
        var lap = new Sample(now.Bench - _last.Bench, now.App - _last.App, now.Storage - _last.Storage, now.Bare - _last.Bare, now.Floor - _last.Floor);
        _last = now;
        return lap;
    }

    internal readonly record struct Sample(double Bench, double App, double Storage, double Bare, double Floor);

    private static Sample Read(int appPid, int storagePid, int barePid, int floorPid) =>
        new(Process.GetCurrentProcess().TotalProcessorTime.TotalMicroseconds, Of(appPid), Of(storagePid), Of(barePid), Of(floorPid));

    /// <summary>utime + stime of a process, in µs (fields 14 and 15 of /proc/PID/stat, in clock ticks of 10 ms).</summary>
    internal static double Of(int pid)
    {
        if (pid == 0 || !File.Exists($"/proc/{pid}/stat"))
        {
            return 0;
        }

        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(')')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10_000.0;
    }
}
