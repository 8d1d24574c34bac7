// Delivery throughput benchmark: N queued deliveries through concurrent workers (the real DeliveryHandler, the
// channel router with its shared rate slots, the ACS SMS client) to a provider stub with fixed latency, against a
// sequential sender in the same run; then a crash phase that kills workers between the provider call and the log
// write and counts messages that reached the provider twice. Storage is Azurite (NUDGE_TEST_STORAGE).
// The concurrent workers are <instances> copies of the production QueuePump with host.json's batchSize 16 and
// newBatchThreshold 8 (up to 24 messages in flight each), as the local trigger driver and the Functions host run them.
// With <queueDepth> > 0 the messages are enqueued during the phase, never more than that many outstanding (a journey
// shell producing them), because Azurite's queue costs grow with the number of messages it holds (see docs/benchmarks.md).
// Set AZURITE_PID (one pid or several, space-separated) to report the emulator's CPU time per message.
// Usage: dotnet run -c Release -- [messages=100000] [rate=300] [instances=3] [latencyMs=50] [crashMessages=2000] [maxSecondsPerPhase=3600] [queueDepth=0]
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Nudge.Channels;
using Nudge.Channels.Providers;
using Nudge.Channels.Routing;
using Nudge.Channels.Templates;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Storage;
using Nudge.Testing;

var arg = (int i, int fallback) => args.Length > i && int.TryParse(args[i], out var v) ? v : fallback;
var messages = arg(0, 100_000);
var rate = arg(1, 300);
var instances = arg(2, 3);
var latency = TimeSpan.FromMilliseconds(arg(3, 50));
var crashMessages = arg(4, 2_000);
var maxPhase = TimeSpan.FromSeconds(arg(5, 3600));
var queueDepth = arg(6, 0);
const int BatchSize = 16, NewBatchThreshold = 8; // host.json
// One pid, or several separated by spaces (scripts/azurite.sh start-split).
var azurite = Environment.GetEnvironmentVariable("AZURITE_PID")?.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray();
const int Customers = 1000;

await using var stubs = await ProviderStubs.StartAsync();
stubs.Latency = latency;
var timing = new StorageTiming();
var clients = StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
{
    ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
}).Build(), "AzureWebJobsStorage", timing.Observer);
var clock = new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1));
var options = Options.Create(new ChannelOptions { SenderName = "벤치샵", OptOutNumber = "080-000-0000", PublicBaseUrl = "https://bench.example", LinkSecret = "bench-link-secret-0001", CallbackKey = "bench-callback-0001" });
var builder = new MessageBuilder(new EmbeddedTemplateStore(), new LinkTokens(options), options);

Console.WriteLine($"# delivery benchmark: {messages} messages, allowed {rate}/s, {instances} instances x ({BatchSize} + {NewBatchThreshold}) in flight, provider latency {latency.TotalMilliseconds} ms, queue depth {(queueDepth > 0 ? $"at most {queueDepth}" : "all pre-enqueued")}");

// Sequential baseline: one worker, one message at a time, no rate limit, for 15 s.
var baseline = await RunAsync("sequential", Math.Min(messages, 2000), instances: 0, limit: null, crashEvery: 0, TimeSpan.FromSeconds(15), dedupingProvider: true);
var concurrent = await RunAsync("concurrent", messages, instances, limit: rate, crashEvery: 0, maxPhase, dedupingProvider: true);
var crashAcs = await RunAsync("crashes, ACS (dedupes by key)", crashMessages, instances, limit: rate, crashEvery: 10, maxPhase, dedupingProvider: true);
var crashSolapi = await RunAsync("crashes, Solapi (no key)", crashMessages, instances, limit: rate, crashEvery: 10, maxPhase, dedupingProvider: false);

var routerOnly = await RouterOnlyAsync(Math.Max(1000, 10 * rate), instances * (BatchSize + NewBatchThreshold), rate);

Console.WriteLine();
Console.WriteLine($"channel layer alone (router + shared slots + ACS SMS client, no delivery log): achieved / allowed {routerOnly.Rate / rate:0.000} ({routerOnly.Rate:0.0}/s of {rate}/s), max in 1 s {routerOnly.MaxInSecond}, over the limit {Math.Max(0, routerOnly.MaxInSecond - rate)}");
Console.WriteLine($"achieved / allowed rate: {concurrent.Rate / rate:0.000} ({concurrent.Rate:0.0}/s of {rate}/s); max in any 1 s window: {concurrent.MaxInSecond} (limit {rate}); over the limit: {Math.Max(0, concurrent.MaxInSecond - rate)}");
Console.WriteLine($"concurrent / sequential: {concurrent.Rate / baseline.Rate:0.0}x ({concurrent.Rate:0.0}/s vs {baseline.Rate:0.0}/s)");
Console.WriteLine($"duplicates after injected crashes: ACS {crashAcs.Duplicates} ({crashAcs.Crashes} crashes, {crashAcs.Unconfirmed} unconfirmed), Solapi {crashSolapi.Duplicates} ({crashSolapi.Crashes} crashes, {crashSolapi.Unconfirmed} unconfirmed)");

// instances 0: the sequential sender (one worker takes 32 messages at a time and handles them one by one).
async Task<Result> RunAsync(string name, int count, int instances, int? limit, int crashEvery, TimeSpan maxTime, bool dedupingProvider)
{
    if (count == 0)
    {
        return new Result(name, 0, 0, 0, 0, 0);
    }

    var names = new StorageNames(TestStorage.NewPrefix());
    await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
    var profiles = new TableProfileStore(clients.Tables, names);
    var deliveries = new TableDeliveryLog(clients.Tables, names);
    var queue = new StorageWorkQueue(clients.Queues, names, clock);
    var settings = new PipelineSettings(TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul"));
    var suppressions = new TableSuppressionList(clients.Tables, names, clock);

    // Set-up: customers and queue messages.
    await Parallel.ForEachAsync(Enumerable.Range(0, Customers), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (c, ct) =>
        await profiles.TrySaveAsync(new CustomerProfile { Key = new CustomerKey("bench", $"c{c}"), Phone = $"+8210{c:D8}", FirstName = "벤치", Consent = new MarketingConsent(true, true, true) }, null, ct));
    var ids = Enumerable.Range(0, count).Select(i => (Customer: new CustomerKey("bench", $"c{i % Customers}"), Id: DeliveryId.For($"{name}/{i}", 0, 0))).ToArray();
    // The messages carry their orders, as the journeys send them: the worker's claim writes each delivery row.
    var order = new DeliveryOrder("bench", 0, ChannelNames.Sms, "consent-withdrawn-sms", Nudge.Core.Delivery.MessageClass.Transactional, DateTimeOffset.UtcNow);
    var feeding = queueDepth > 0;
    if (!feeding)
    {
        await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (x, ct) =>
            await queue.EnqueueDeliveryAsync(ChannelNames.Sms, new DeliveryMessage("bench", x.Customer.CustomerId, x.Id, order), null, ct));
    }

    var requestsBefore = stubs.Requests;
    var acceptedBefore = stubs.Accepted.Count;
    var arrivalsFrom = DateTimeOffset.UtcNow;
    IProvider provider = dedupingProvider
        ? new AcsSmsProvider(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(30)), null, ProviderStubs.AcsAccessKey, TimeProvider.System), stubs.BaseAddress, "+18005550100", "2021-03-07", TimeProvider.System)
        : new SolapiProvider(HttpPipelineBuilder.Build(new AcsClientOptions(TimeSpan.FromSeconds(30))), new SolapiSettings(stubs.BaseAddress, ProviderStubs.SolapiKey, ProviderStubs.SolapiSecret, "0212345678", null), TimeProvider.System);
    var throttle = limit is { } l ? new ProviderThrottle($"{names.Prefix}-sms", [new RateLimit(l, TimeSpan.FromSeconds(1))], new TableRateLimitStore(clients.Tables, names), TimeProvider.System) : null;
    var lane = new ProviderLane<ISmsProvider>((ISmsProvider)provider, throttle, new CircuitBreaker(1000, TimeSpan.FromSeconds(1), TimeProvider.System));
    var router = new ChannelRouter(builder, new ProviderLanes([], [lane], null), clock);
    var crashes = 0;
    var sender = new CrashingSender(router, crashEvery, () => Interlocked.Increment(ref crashes));
    var handler = new DeliveryHandler(deliveries, profiles, sender, queue, settings, clock, suppressions, null,
        DeliveryRetryPolicy.Default with { ClaimLease = TimeSpan.FromSeconds(3) }, capLedger: new TableFrequencyCapLedger(clients.Tables, names));
    var queueClient = clients.Queues.GetQueueClient(names.DeliveryQueue(ChannelNames.Sms));
    var outcomes = new ConcurrentDictionary<DeliveryHandling, int>();
    var final = 0;
    var enqueued = 0;
    var settled = 0;
    timing.Reset();
    var cpuBefore = AzuriteCpuMs();
    var ownCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
    var watch = Stopwatch.StartNew();
    using var stop = new CancellationTokenSource(maxTime);
    using var progress = new Timer(_ => Console.WriteLine($"  {name}: {Volatile.Read(ref final)}/{count} after {watch.Elapsed.TotalSeconds:0} s"), null, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(15));
    var elapsed = TimeSpan.Zero;

    async Task ProcessAsync(Azure.Storage.Queues.Models.QueueMessage item)
    {
        try
        {
            var message = JsonSerializer.Deserialize<DeliveryMessage>(item.Body.ToString(), NudgeJson.Options)!;
            var outcome = await handler.HandleAsync(message, CancellationToken.None);
            outcomes.AddOrUpdate(outcome, 1, (_, n) => n + 1);
            await queueClient.DeleteMessageAsync(item.MessageId, item.PopReceipt);
            Interlocked.Increment(ref settled);
            if (outcome is DeliveryHandling.Sent or DeliveryHandling.Unconfirmed or DeliveryHandling.Failed or DeliveryHandling.Suppressed
                && Interlocked.Increment(ref final) == count)
            {
                elapsed = watch.Elapsed;
                await stop.CancelAsync();
            }
        }
        catch (Azure.RequestFailedException e) when (e.Status is 404 or 400)
        {
            // The lease ran out and another worker holds the message now: it will delete it.
        }
        catch (SimulatedCrash)
        {
            // The worker "died" after the provider call: no log write, no delete; the message comes back.
        }
    }

    // 64 senders: an Azurite enqueue takes ~100 ms under this load (it writes the body to a file), and the feeder must not be what limits the rate.
    var feeder = !feeding ? Task.CompletedTask : Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = stop.Token }, async (x, ct) =>
    {
        while (Volatile.Read(ref enqueued) - Volatile.Read(ref settled) >= queueDepth)
        {
            await Task.Delay(5, ct);
        }

        Interlocked.Increment(ref enqueued);
        await queue.EnqueueDeliveryAsync(ChannelNames.Sms, new DeliveryMessage("bench", x.Customer.CustomerId, x.Id, order), null, ct);
    });

    if (instances == 0)
    {
        while (!stop.IsCancellationRequested)
        {
            var batch = (await queueClient.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(60))).Value;
            if (batch.Length == 0)
            {
                await Task.Delay(50);
                continue;
            }

            foreach (var item in batch.TakeWhile(_ => !stop.IsCancellationRequested))
            {
                await ProcessAsync(item);
            }
        }
    }
    else
    {
        // The crash phases need the lease to end for a "dead" worker's message to come back: 20 s, not the driver's 5 min.
        await Task.WhenAll(Enumerable.Range(0, instances).Select(_ => new QueuePump(queueClient, BatchSize, NewBatchThreshold, TimeSpan.FromSeconds(20))
            .RunAsync(ProcessAsync, e => Console.WriteLine($"  receive failed: {e.Message}"), TimeSpan.FromMilliseconds(200), stop.Token)));
    }

    await feeder.ContinueWith(_ => { }, TaskScheduler.Default);
    var cpuMs = AzuriteCpuMs() - cpuBefore;
    var ownCpu = Process.GetCurrentProcess().TotalProcessorTime - ownCpuBefore;

    // What is left on the queue would slow every later phase down: Azurite scans all of an account's messages on each queue call.
    await queueClient.DeleteAsync();
    watch.Stop();
    elapsed = elapsed == TimeSpan.Zero ? watch.Elapsed : elapsed;
    var sent = outcomes.GetValueOrDefault(DeliveryHandling.Sent);
    var arrivals = stubs.Arrivals.Where(a => a >= arrivalsFrom).OrderBy(a => a).ToArray();
    var maxInSecond = ProviderStubs.MaxInWindow(arrivals, TimeSpan.FromSeconds(1));
    var accepted = stubs.Accepted.Skip(acceptedBefore).ToArray();
    var duplicates = accepted.Select(a => a.Route == "solapi" ? a.Body["customFields"]!["deliveryId"]!.GetValue<string>() : a.Body["smsSendOptions"]!["tag"]!.GetValue<string>())
        .GroupBy(id => id).Count(g => g.Count() > 1);
    var result = new Result(name, sent / elapsed.TotalSeconds, maxInSecond, duplicates, crashes, outcomes.GetValueOrDefault(DeliveryHandling.Unconfirmed));
    Console.WriteLine($"{name}: {final}/{count} final ({sent} sent, {result.Unconfirmed} unconfirmed) in {elapsed.TotalSeconds:0.0} s = {result.Rate:0.0}/s; " +
        $"provider requests {stubs.Requests - requestsBefore}, max in 1 s {maxInSecond}, crashes {crashes}, duplicates {duplicates}; outcomes {string.Join(", ", outcomes.Select(o => $"{o.Key}={o.Value}"))}");
    Console.WriteLine(timing.Report(elapsed));
    if (cpuMs is { } cpu && final > 0)
    {
        Console.WriteLine($"  Azurite CPU: {cpu / 1000:0.0} s in {elapsed.TotalSeconds:0.0} s = {cpu / elapsed.TotalMilliseconds:0.00} cores, {cpu / final:0.00} ms per final message");
    }

    if (final > 0)
    {
        Console.WriteLine($"  benchmark process CPU (workers, provider stub, feeder): {ownCpu.TotalSeconds:0.0} s = {ownCpu / elapsed:0.00} cores, {ownCpu.TotalMilliseconds / final:0.00} ms per final message");
    }
    return result;
}

async Task<Result> RouterOnlyAsync(int count, int workers, int limit)
{
    var names = new StorageNames(TestStorage.NewPrefix());
    await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
    var provider = new AcsSmsProvider(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(30)), null, ProviderStubs.AcsAccessKey, TimeProvider.System), stubs.BaseAddress, "+18005550100", "2021-03-07", TimeProvider.System);
    var throttle = new ProviderThrottle($"{names.Prefix}-router", [new RateLimit(limit, TimeSpan.FromSeconds(1))], new TableRateLimitStore(clients.Tables, names), TimeProvider.System);
    var router = new ChannelRouter(builder, new ProviderLanes([], [new ProviderLane<ISmsProvider>(provider, throttle, new CircuitBreaker(1000, TimeSpan.FromSeconds(1), TimeProvider.System))], null), clock);
    var profile = new CustomerProfile { Key = new CustomerKey("bench", "r"), Phone = "+821000000001", Consent = new MarketingConsent(true, true, true) };
    var from = DateTimeOffset.UtcNow;
    var next = -1;
    var sent = 0;
    var watch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, workers).Select(async _ =>
    {
        int i;
        while ((i = Interlocked.Increment(ref next)) < count)
        {
            var message = new OutboundMessage(DeliveryId.For($"router/{i}", 0, 0), ChannelNames.Sms, "consent-withdrawn-sms", MessageClass.Transactional, profile) { ScheduledFor = from };
            SendOutcome outcome;
            while ((outcome = await router.SendAsync(message, CancellationToken.None)).RetryAt is not null)
            {
                await Task.Delay(20);
            }

            if (outcome.Sent)
            {
                Interlocked.Increment(ref sent);
            }
        }
    }));
    watch.Stop();
    var arrivals = stubs.Arrivals.Where(a => a >= from).OrderBy(a => a).ToArray();
    var result = new Result("router only", sent / watch.Elapsed.TotalSeconds, ProviderStubs.MaxInWindow(arrivals, TimeSpan.FromSeconds(1)), 0, 0, 0);
    Console.WriteLine($"router only: {sent}/{count} sent in {watch.Elapsed.TotalSeconds:0.0} s = {result.Rate:0.0}/s; max in 1 s {result.MaxInSecond}");
    return result;
}

double? AzuriteCpuMs()
{
    if (azurite is not { } pids)
    {
        return null;
    }

    // /proc/<pid>/stat: utime and stime (fields 14 and 15) in clock ticks of 10 ms, after the parenthesised name.
    return pids.Sum(pid =>
    {
        var fields = File.ReadAllText($"/proc/{pid}/stat").Split(") ")[1].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) * 10.0;
    });
}

record Result(string Name, double Rate, int MaxInSecond, int Duplicates, int Crashes, int Unconfirmed);

sealed class SimulatedCrash() : Exception("simulated crash between the provider call and the log write");

/// <summary>Every n-th send "crashes" after the provider accepted it, before the worker could record it.</summary>
sealed class CrashingSender(IChannelSender inner, int crashEvery, Func<int> onCrash) : IChannelSender
{
    private int _calls;

    public async Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var outcome = await inner.SendAsync(message, cancellationToken);
        if (crashEvery > 0 && !message.Resumed && outcome.Sent && Interlocked.Increment(ref _calls) % crashEvery == 0)
        {
            onCrash();
            throw new SimulatedCrash();
        }

        return outcome;
    }
}

/// <summary>Counts and times every storage request by kind, so a phase shows where its time goes.</summary>
sealed class StorageTiming
{
    private readonly ConcurrentDictionary<string, (int Count, double TotalMs, double MaxMs)> _byKind = new();

    public StorageTiming() => Observer = new StorageObserver((message, took) =>
    {
        var ms = took.TotalMilliseconds;
        var path = message.Request.Uri.Path;
        var service = path.Contains("/messages", StringComparison.Ordinal) ? "queue" : path.Contains('(') || path.Contains("$batch", StringComparison.Ordinal) ? "table" : "other";
        var key = $"{service} {message.Request.Method} {message.Response.Status}";
        _byKind.AddOrUpdate(key, (1, ms, ms), (_, v) => (v.Count + 1, v.TotalMs + ms, Math.Max(v.MaxMs, ms)));
    });

    public StorageObserver Observer { get; }

    public void Reset() => _byKind.Clear();

    public string Report(TimeSpan elapsed) =>
        "  storage requests: " + string.Join("; ", _byKind.OrderByDescending(k => k.Value.TotalMs).Select(k =>
            $"{k.Key} x{k.Value.Count} ({k.Value.Count / elapsed.TotalSeconds:0}/s) avg {k.Value.TotalMs / k.Value.Count:0.0} ms max {k.Value.MaxMs:0}"));
}
