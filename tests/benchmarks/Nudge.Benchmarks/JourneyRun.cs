using System.Diagnostics;
using System.Globalization;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.DurableTask;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Core.Time;
using Nudge.Storage;

namespace Nudge.Benchmarks;

/// <summary>
/// Journeys on Azurite against a bare orchestration of the same shape, one after the other in the same process: the
/// whole app (webhook → ingestion → journey event → Journey orchestration with its activities → delivery workers)
/// runs welcome journeys to completion, and the baseline runs as many <see cref="BareJourneyShape"/> orchestrations
/// on the same local task hub setup with the same real-time wait. Both count every storage request with one
/// <see cref="StorageCounter"/> policy and measure instances completed per second of wall time.
/// </summary>
public static class JourneyRun
{
    private const string BareHubName = "NudgeBare";
    private const string JourneyHubName = TaskHubSettings.DefaultHubName;

    /// <summary>How long after its start-up a run's task hub is left to take its partitions' leases before the first
    /// instance starts (the journeys' signups begin this long after the clock anchor is set, as in the old benchmark).</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(15);

    /// <summary>The welcome journey's wait between the coupon and the day-2 SMS.</summary>
    private static readonly TimeSpan WelcomeWait = TimeSpan.FromDays(2);

    private static readonly TimeSpan Progress = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(3);

    /// <summary>What one side of the comparison measured.</summary>
    /// <param name="ToLastCompletion">First start (signup) → last orchestration completed.</param>
    /// <param name="ToLastMessage">Journeys only: first signup → last message sent by a delivery worker.</param>
    private sealed record Measured(
        int Instances, TimeSpan ToLastCompletion, TimeSpan? ToLastMessage, IReadOnlyDictionary<StorageRequestKind, int> Requests, IReadOnlyDictionary<StorageRequestKind, long> Bytes,
        double BenchCpuSeconds, double? AzuriteCpuSeconds, IReadOnlyDictionary<string, int> HistoryEvents);

    public static async Task RunAsync(string connectionString, int journeys, int clockSpeed, int startHour, bool bareFirst, TextWriter output)
    {
        var azurite = Environment.GetEnvironmentVariable("AZURITE_PID") is { Length: > 0 } pid ? int.Parse(pid, CultureInfo.InvariantCulture) : (int?)null;
        var wait = TimeSpan.FromTicks(WelcomeWait.Ticks / clockSpeed);
        output.WriteLine($"{journeys} instances each side, clock speed {clockSpeed} (2 virtual days = {wait.TotalSeconds:F1} s real), {(bareFirst ? "bare orchestration first" : "journeys first")}, {Environment.ProcessorCount} cores");
        output.WriteLine($"load average at start     {LoadAverage()}");
        output.WriteLine($"reference: Azurite raw    {await RawInsertRateAsync(connectionString):F0} single table inserts/s");
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FunctionInvoker.ActivitySourceName, // by name: the source may not exist yet
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);

        Measured bare, welcome;
        string journeyHub;
        if (bareFirst)
        {
            bare = await RunBareAsync(connectionString, journeys, clockSpeed, wait, azurite);
            (welcome, journeyHub) = await RunJourneysAsync(connectionString, journeys, clockSpeed, startHour, azurite);
        }
        else
        {
            (welcome, journeyHub) = await RunJourneysAsync(connectionString, journeys, clockSpeed, startHour, azurite);
            bare = await RunBareAsync(connectionString, journeys, clockSpeed, wait, azurite);
        }

        output.WriteLine($"load average at end       {LoadAverage()}");
        Report(output, bare, welcome, journeyHub);
    }

    private static async Task<Measured> RunBareAsync(string connectionString, int instances, int clockSpeed, TimeSpan wait, int? azurite)
    {
        var counter = CounterFor(connectionString);
        var storage = StorageClients.FromConfiguration(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["AzureWebJobsStorage"] = connectionString }).Build(), "AzureWebJobsStorage", counter.Observer);
        var settings = HostJson.Load(AppContext.BaseDirectory).DurableTask with { HubName = BareHubName + RunId() };
        var clock = new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, clockSpeed));
        await using var services = new ServiceCollection()
            .AddLogging(logging => logging.AddSimpleConsole().SetMinimumLevel(LogLevelFromEnvironment()))
            .BuildServiceProvider();
        var startedAt = DateTimeOffset.UtcNow;
        await using var hub = new LocalTaskHub(FunctionCatalog.Of(typeof(BareJourneyShape).Assembly), storage, settings, clock, services, services.GetRequiredService<ILoggerFactory>());
        await hub.StartAsync(CancellationToken.None);
        await DelayUntilAsync(startedAt + Settle);

        counter.Reset();
        var (cpu, azuriteCpu) = (BenchCpuSeconds(), AzuriteCpuSeconds(azurite));
        var first = DateTimeOffset.UtcNow;
        // Started 16 at a time, as the journeys' signups arrive.
        await Parallel.ForAsync(0, instances, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var due = (DateTime.UtcNow + wait).ToString("o", CultureInfo.InvariantCulture);
            await hub.Client.ScheduleNewOrchestrationInstanceAsync(BareJourneyShape.Name, due, new StartOrchestrationOptions($"bare-{i:D6}"), ct);
        });

        var instancesTable = new TableClient(connectionString, settings.HubName + "Instances"); // not observed: the benchmark's own reads
        var last = await WaitForAsync("bare orchestrations", first, async () =>
        {
            var (completed, lastCompleted) = await CompletedAsync(instancesTable);
            return (completed >= instances, $"{completed}/{instances} completed", lastCompleted);
        });
        var (requests, bytes) = (counter.Snapshot(), counter.BytesSnapshot());
        var measured = new Measured(instances, last - first, null, requests, bytes, BenchCpuSeconds() - cpu, AzuriteCpuSeconds(azurite) - azuriteCpu,
            await HistoryEventsAsync(new TableClient(connectionString, settings.HubName + "History")));
        await hub.StopAsync(CancellationToken.None);
        return measured;
    }

    private static async Task<(Measured Measured, string Hub)> RunJourneysAsync(string connectionString, int journeys, int clockSpeed, int startHour, int? azurite)
    {
        var counter = CounterFor(connectionString);
        var prefix = RunId();
        // Virtual time reaches Monday at the given hour KST when the signups begin, whatever the hour of the run and
        // however long the app takes to start, so runs compare.
        var signupsFrom = DateTimeOffset.UtcNow + Settle;
        var settings = new TableClient(connectionString, new StorageNames(prefix).Settings);
        await settings.CreateIfNotExistsAsync();
        await settings.UpsertEntityAsync(new TableEntity("clock", "anchor")
        {
            ["RealAt"] = signupsFrom, ["VirtualAt"] = new DateTimeOffset(2026, 1, 5, startHour, 0, 0, TimeSpan.FromHours(9)), ["Speed"] = (double)clockSpeed,
        });
        await using var app = await NudgeApp.BuildAsync([], builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:0",
            ["AzureWebJobsStorage"] = connectionString,
            ["Nudge:Storage:Prefix"] = prefix,
            [TaskHubSettings.HubNameSetting] = JourneyHubName,
            ["Shopify:WebhookSecret"] = "bench-secret",
            ["Nudge:MarketerApiKey"] = "bench-marketer-key-0001",
            [NudgeApp.ClockSpeedSetting] = clockSpeed.ToString(CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = LogLevelFromEnvironment().ToString(),
        }), counter.Observer);
        var hub = app.Services.GetRequiredService<TaskHubSettings>().HubName;
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        await DelayUntilAsync(signupsFrom);

        counter.Reset();
        var (cpu, azuriteCpu) = (BenchCpuSeconds(), AzuriteCpuSeconds(azurite));
        var first = DateTimeOffset.UtcNow;
        // Signups arrive 16 at a time, as from a busy shop (the journey workers then receive several per poll).
        await Parallel.ForAsync(0, journeys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var body = Encoding.UTF8.GetBytes($$$"""{"id":{{{900000 + i}}},"email":"b{{{i}}}@example.com","phone":"+821000000000","created_at":"2026-01-05T10:00:00+09:00","updated_at":"2026-01-05T10:00:00+09:00","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":{"state":"subscribed"}}""");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shopify") { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.Add("X-Shopify-Topic", "customers/create");
            request.Headers.Add("X-Shopify-Shop-Domain", "bench.myshopify.com");
            request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Hmac-Sha256", WebhookSignature.Compute(body, "bench-secret"u8));
            (await http.SendAsync(request, ct)).EnsureSuccessStatusCode();
        });

        // Not observed: the benchmark's own reads.
        var instancesTable = new TableClient(connectionString, hub + "Instances");
        var deliveries = new TableClient(connectionString, new StorageNames(prefix).Deliveries);
        var lastMessage = DateTimeOffset.MinValue;
        var lastJourney = await WaitForAsync("welcome journeys", first, async () =>
        {
            var (completed, lastCompleted) = await CompletedAsync(instancesTable);
            if (completed < journeys)
            {
                return (false, $"{completed}/{journeys} orchestrations completed", lastCompleted);
            }

            // Done when every journey's orchestration has completed and both of its messages went out, so the delivery
            // workers' share is in the counts too; the journeys' rate is taken at their orchestrations' completion.
            (var sent, lastMessage) = await SentAsync(deliveries);
            return (sent >= journeys * 2, $"{completed}/{journeys} orchestrations completed, {sent}/{journeys * 2} messages sent", lastCompleted);
        });
        var (requests, bytes) = (counter.Snapshot(), counter.BytesSnapshot());
        var measured = new Measured(journeys, lastJourney - first, lastMessage - first, requests, bytes, BenchCpuSeconds() - cpu, AzuriteCpuSeconds(azurite) - azuriteCpu,
            await HistoryEventsAsync(new TableClient(connectionString, hub + "History")));
        await app.StopAsync();
        return (measured, hub);
    }

    /// <summary>Polls <paramref name="check"/> every <see cref="PollInterval"/> until it says done; returns the completion time it reports.</summary>
    private static async Task<DateTimeOffset> WaitForAsync(string what, DateTimeOffset first, Func<Task<(bool Done, string Status, DateTimeOffset Last)>> check)
    {
        var limit = TimeSpan.FromMinutes(double.TryParse(Environment.GetEnvironmentVariable("BENCH_MAX_MINUTES"), CultureInfo.InvariantCulture, out var minutes) ? minutes : 30);
        var shown = DateTimeOffset.UtcNow;
        while (true)
        {
            var (done, status, last) = await check();
            if (done)
            {
                Console.Error.WriteLine($"{what}: {status} ({(DateTimeOffset.UtcNow - first).TotalSeconds:F0} s)");
                return last;
            }

            if (DateTimeOffset.UtcNow - first > limit)
            {
                throw new TimeoutException($"{what}: only {status} after {limit.TotalMinutes} minutes");
            }

            if (DateTimeOffset.UtcNow - shown > Progress)
            {
                Console.Error.WriteLine($"{what}: {status} ({(DateTimeOffset.UtcNow - first).TotalSeconds:F0} s)");
                shown = DateTimeOffset.UtcNow;
            }

            // Seldom: each poll scans a table on the emulator the measured run is bound by, and the exact completion
            // times come from the rows anyway (only the idle polls of the last seconds are counted in addition).
            await Task.Delay(PollInterval);
        }
    }

    /// <summary>Completed orchestrations in a task hub's instances table and when the last of them was written.</summary>
    private static async Task<(int Count, DateTimeOffset Last)> CompletedAsync(TableClient instances)
    {
        var (count, last) = (0, DateTimeOffset.MinValue);
        await foreach (var row in instances.QueryAsync<TableEntity>("RuntimeStatus eq 'Completed'", select: ["LastUpdatedTime"]))
        {
            count++;
            var updated = row["LastUpdatedTime"] switch
            {
                DateTimeOffset at => at,
                DateTime at => new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)),
                string at => DateTimeOffset.Parse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                var other => throw new InvalidDataException($"LastUpdatedTime is {other?.GetType().Name ?? "missing"}"),
            };
            last = updated > last ? updated : last;
        }

        return (count, last);
    }

    /// <summary>
    /// How many history events of each type the task hub holds (after the runs: every instance completed). Episodes
    /// (<c>OrchestratorStarted</c>), activities and timers per instance explain the task hub's requests: each episode
    /// reads the history, writes it and updates the instance row; each activity and each timer is a message.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, int>> HistoryEventsAsync(TableClient history)
    {
        var counts = new Dictionary<string, int>();
        await foreach (var row in history.QueryAsync<TableEntity>(select: ["EventType"]))
        {
            if (row.GetString("EventType") is { } type)
            {
                counts[type] = counts.GetValueOrDefault(type) + 1;
            }
        }

        return counts;
    }

    /// <summary>Sent deliveries and when the last of them was written (the row's own timestamp, set by the emulator).</summary>
    private static async Task<(int Count, DateTimeOffset Last)> SentAsync(TableClient deliveries)
    {
        var (count, last) = (0, DateTimeOffset.MinValue);
        await foreach (var row in deliveries.QueryAsync<TableEntity>(e => e.GetString("Status") == "sent", select: ["Status", "Timestamp"]))
        {
            count++;
            last = row.Timestamp > last ? row.Timestamp.Value : last;
        }

        return (count, last);
    }

    private static void Report(TextWriter output, Measured bare, Measured welcome, string journeyHub)
    {
        var bareWork = bare.Requests.Where(r => !r.Key.EmptyReceive).Sum(r => r.Value);
        var bareIdle = bare.Requests.Where(r => r.Key.EmptyReceive).Sum(r => r.Value);
        var bareRate = bare.Instances / bare.ToLastCompletion.TotalSeconds;
        output.WriteLine();
        output.WriteLine("== bare orchestration (activity, timer raced with an event, activity; no-op activities, no Nudge stores)");
        output.WriteLine($"orchestrations/s          {bareRate:F2}  ({bare.Instances} in {bare.ToLastCompletion.TotalSeconds:F1} s, first start → last completion)");
        output.WriteLine($"storage ops per orch.     {(double)bareWork / bare.Instances:F2}  (+ {(double)bareIdle / bare.Instances:F2} empty receives: idle polls)");
        output.WriteLine($"CPU per orchestration     bench process {bare.BenchCpuSeconds * 1000 / bare.Instances:F1} ms{AzuriteCpu(bare)}");
        output.WriteLine($"history per orchestration {History(bare)}");
        output.WriteLine($"bodies per orchestration  {bare.Bytes.Sum(b => b.Value) / 1024.0 / bare.Instances:F1} KiB sent and received");
        WriteByResource(output, bare, r => r.Resource.StartsWith(BareHubName, StringComparison.OrdinalIgnoreCase) ? "task hub" : "other");

        var sides = welcome.Requests.GroupBy(r => SideOf(r.Key, journeyHub)).ToDictionary(g => g.Key, g => g.Where(r => !r.Key.EmptyReceive).Sum(r => r.Value));
        int Side(string side) => sides.GetValueOrDefault(side);
        double PerJourney(int count) => (double)count / welcome.Instances;
        var journeyWork = Side(JourneySide);
        var journeyIdle = welcome.Requests.Where(r => r.Key.EmptyReceive && SideOf(r.Key, journeyHub) == JourneySide).Sum(r => r.Value);
        var pipelineWork = welcome.Requests.Where(r => !r.Key.EmptyReceive).Sum(r => r.Value);
        var pipelineIdle = welcome.Requests.Where(r => r.Key.EmptyReceive).Sum(r => r.Value);
        var journeyRate = welcome.Instances / welcome.ToLastCompletion.TotalSeconds;
        output.WriteLine();
        output.WriteLine("== welcome journeys (signed webhook → ingestion → JourneyEvents → Journey orchestration → email and SMS workers)");
        output.WriteLine($"journeys/s                {journeyRate:F2}  ({welcome.Instances} in {welcome.ToLastCompletion.TotalSeconds:F1} s, first signup → last orchestration completed)");
        output.WriteLine($"  to the last SMS sent    {welcome.Instances / welcome.ToLastMessage!.Value.TotalSeconds:F2}  ({welcome.ToLastMessage.Value.TotalSeconds:F1} s, the SMS worker's part included)");
        output.WriteLine($"journey runtime ops       {PerJourney(journeyWork):F2} per journey  (+ {PerJourney(journeyIdle):F2} empty receives)");
        foreach (var (part, count) in welcome.Requests.Where(r => !r.Key.EmptyReceive && SideOf(r.Key, journeyHub) == JourneySide)
                     .GroupBy(r => JourneyPartOf(r.Key, journeyHub)).Select(g => (g.Key, g.Sum(r => r.Value))).OrderByDescending(p => p.Item2))
        {
            output.WriteLine($"  {part,-60} {PerJourney(count),6:F2}");
        }

        output.WriteLine($"results counters          {PerJourney(Side(ResultsSide)):F2} per journey  (the journeys' results ledger, #12: an entry, each send)");
        output.WriteLine($"ingestion                 {PerJourney(Side(IngestionSide)):F2} per journey");
        output.WriteLine($"delivery workers          {PerJourney(Side(DeliverySide)):F2} per journey");
        output.WriteLine($"other functions           {PerJourney(Side(OtherSide)):F2} per journey");
        output.WriteLine($"whole pipeline            {PerJourney(pipelineWork):F2} per journey  (+ {PerJourney(pipelineIdle):F2} empty receives)");
        output.WriteLine($"CPU per journey           bench process {welcome.BenchCpuSeconds * 1000 / welcome.Instances:F1} ms{AzuriteCpu(welcome)}");
        output.WriteLine($"history per journey       {History(welcome)}");
        output.WriteLine($"bodies per journey        {welcome.Bytes.Where(b => SideOf(b.Key, journeyHub) == JourneySide).Sum(b => b.Value) / 1024.0 / welcome.Instances:F1} KiB sent and received by the journey runtime, {welcome.Bytes.Sum(b => b.Value) / 1024.0 / welcome.Instances:F1} KiB by the whole pipeline");
        WriteByResource(output, welcome, r => SideOf(r, journeyHub));

        var opsRatio = PerJourney(journeyWork) / ((double)bareWork / bare.Instances);
        var opsRatioWithPolls = PerJourney(journeyWork + journeyIdle) / ((double)(bareWork + bareIdle) / bare.Instances);
        var rateRatio = journeyRate / bareRate;
        output.WriteLine();
        output.WriteLine("== journeys against the bare orchestration");
        output.WriteLine($"storage ops ratio         {opsRatio:F2}  (target ≤ 1.25: {(opsRatio <= 1.25 ? "met" : "not met")}); with empty receives {opsRatioWithPolls:F2}");
        output.WriteLine($"throughput ratio          {rateRatio:F2}  (target ≥ 0.8: {(rateRatio >= 0.8 ? "met" : "not met")})");
    }

    private const string JourneySide = "journey runtime";
    private const string IngestionSide = "ingestion";
    private const string ResultsSide = "results counters";
    private const string DeliverySide = "delivery workers";
    private const string OtherSide = "other";

    /// <summary>
    /// Which part of the pipeline a request belongs to. The journey runtime is the task hub (whoever calls it: the
    /// orchestrations' dispatchers, the starts in <c>JourneyEvents</c>), the journey functions' own Nudge requests
    /// (the event read, profile and instance rows, the delivery messages the carry-out activity enqueues), and the
    /// receives and deletes of the <c>journey-events</c> queue — what the old durable shell was measured on. The
    /// results ledger's counters, whoever writes them, are a feature of their own (#12), reported beside like ingestion.
    /// </summary>
    private static string SideOf(StorageRequestKind request, string journeyHub)
    {
        if (request.Resource.StartsWith(journeyHub, StringComparison.OrdinalIgnoreCase))
        {
            return JourneySide;
        }

        if (WithoutPrefix(request.Resource).StartsWith("journeyresults", StringComparison.OrdinalIgnoreCase))
        {
            return ResultsSide;
        }

        return request.Stage switch
        {
            "JourneyEvents" or "JourneyCarryOut" or "JourneyContext" => JourneySide,
            "IngestBatches" => IngestionSide,
            "EmailSender" or "SmsSender" or "KakaoSender" => DeliverySide,
            StorageCounter.NoFunction when QueueOf(request.Resource) is { } queue => queue switch
            {
                StorageNames.JourneyEventsQueue => JourneySide,
                StorageNames.IngestBatchesQueue => IngestionSide, // the webhooks' group-committed intake writes, the driver's receives and deletes
                _ when queue.StartsWith(StorageNames.DeliveryQueuePrefix, StringComparison.Ordinal) => DeliverySide,
                _ => OtherSide,
            },
            _ => OtherSide,
        };
    }

    private static string JourneyPartOf(StorageRequestKind request, string journeyHub) =>
        request.Resource.StartsWith(journeyHub, StringComparison.OrdinalIgnoreCase)
            ? $"task hub {HubPart(request.Resource, journeyHub)} {request.Method}{(request.Stage == StorageCounter.NoFunction ? "" : $" (in {request.Stage})")}"
            : request.Stage == StorageCounter.NoFunction
                ? $"{QueueOf(request.Resource)} queue {request.Method} (trigger driver)"
                : $"{request.Stage}: {request.Service} {request.Method} {WithoutPrefix(request.Resource)}";

    /// <summary>The part of a task hub a resource is (control queues together: which partition does not matter).</summary>
    private static string HubPart(string resource, string hub)
    {
        var part = resource[hub.Length..];
        return part.StartsWith("-control-", StringComparison.Ordinal) ? "-control-*" : part;
    }

    /// <summary>A Nudge queue's name without the run's prefix (<c>b1234abcd-journey-events</c> → <c>journey-events</c>).</summary>
    private static string? QueueOf(string resource) => resource.Length > 10 && resource[9] == '-' ? resource[10..] : null;

    private static string WithoutPrefix(string resource) => resource.Length > 9 && resource[0] == 'b' ? resource[9..].TrimStart('-') : resource;

    private static void WriteByResource(TextWriter output, Measured measured, Func<StorageRequestKind, string> side)
    {
        output.WriteLine("  by request (per instance; stage, service, method, table/queue/container):");
        foreach (var (kind, count) in measured.Requests.OrderBy(r => side(r.Key)).ThenBy(r => r.Key.Stage).ThenBy(r => r.Key.Resource).ThenBy(r => r.Key.Method))
        {
            var what = $"{side(kind)} | {kind.Stage} | {kind.Service} {kind.Method} {WithoutPrefix(kind.Resource)}{(kind.EmptyReceive ? " (empty receive)" : "")}";
            output.WriteLine($"    {what,-100} {(double)count / measured.Instances,7:F2}");
        }
    }

    private static string AzuriteCpu(Measured measured) =>
        measured.AzuriteCpuSeconds is { } seconds ? $", Azurite {seconds * 1000 / measured.Instances:F1} ms ({seconds / measured.ToLastCompletion.TotalSeconds:F2} cores)" : "";

    private static string History(Measured measured) => string.Join(", ",
        new[] { "OrchestratorStarted", "TaskScheduled", "TimerCreated", "TimerFired", "EventRaised", "ExecutionStarted" }
            .Select(type => $"{type} {(double)measured.HistoryEvents.GetValueOrDefault(type) / measured.Instances:F2}"));

    private static StorageCounter CounterFor(string connectionString) =>
        new(new BlobServiceClient(connectionString).Uri, new QueueServiceClient(connectionString).Uri, new TableServiceClient(connectionString).Uri);

    /// <summary>A fresh storage prefix (and task hub suffix) per run, so the two runs and earlier ones keep apart.</summary>
    private static string RunId() => "b" + Guid.NewGuid().ToString("N")[..8];

    private static LogLevel LogLevelFromEnvironment() =>
        Enum.TryParse<LogLevel>(Environment.GetEnvironmentVariable("BENCH_LOG_LEVEL"), out var level) ? level : LogLevel.Warning;

    private static async Task DelayUntilAsync(DateTimeOffset at)
    {
        if (at - DateTimeOffset.UtcNow is { Ticks: > 0 } remaining)
        {
            await Task.Delay(remaining);
        }
    }

    private static double BenchCpuSeconds() => Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;

    /// <summary>/proc/&lt;pid&gt;/stat: utime and stime (fields 14 and 15) in clock ticks of 10 ms, after the parenthesised name.</summary>
    private static double? AzuriteCpuSeconds(int? pid)
    {
        if (pid is not { } id || !File.Exists($"/proc/{id}/stat"))
        {
            return null;
        }

        var fields = File.ReadAllText($"/proc/{id}/stat").Split(") ")[1].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static async Task<double> RawInsertRateAsync(string connectionString)
    {
        var table = new TableClient(connectionString, "benchraw" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(3))
        {
            await table.AddEntityAsync(new TableEntity("p", n.ToString(CultureInfo.InvariantCulture)) { ["V"] = n });
            n++;
        }

        await table.DeleteAsync();
        return n / watch.Elapsed.TotalSeconds;
    }
}
