using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Results;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>
/// Journey results on Azurite, each against the cost without counters in the same run:
/// (1) storage operations per recorded status change: the channel worker over the same messages without and with
///     counting (and the fold's amortized cost per fact);
/// (2) reading a journey with 1M entered customers and 3M deliveries over 30 days: its folded day totals (seeded as
///     the fold leaves them, per shard and day, with a backlog of unfolded facts) against scanning the delivery log,
///     measured on a slice and scaled to 3M rows.
/// </summary>
public static class ResultsRun
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    public static async Task RunAsync(string connection, int messages, TextWriter output)
    {
        output.WriteLine($"# results benchmark, {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, load {Load()}");
        await StatusChangesAsync(connection, messages, output);
        await ReadAsync(connection, output);
    }

    private static StorageClients Clients(string connection, StorageObserver? observer) =>
        StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Storage"] = connection }).Build(), "Storage", observer);

    private static async Task StatusChangesAsync(string connection, int messages, TextWriter output)
    {
        var requests = 0;
        var clients = Clients(connection, new StorageObserver((_, _) => Interlocked.Increment(ref requests)));
        var names = new StorageNames("bench" + Guid.NewGuid().ToString("N")[..8]);
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var clock = TimeProvider.System;
        var settings = new PipelineSettings(Seoul);
        var profiles = new TableProfileStore(clients.Tables, names);
        var deliveries = new TableDeliveryLog(clients.Tables, names);
        var queue = new StorageWorkQueue(clients.Queues, names, new Core.Time.VirtualClock(clock, new Core.Time.ClockAnchor(clock.GetUtcNow(), clock.GetUtcNow(), 1)));
        var ledger = new TableResultsLedger(clients.Tables, names);
        var capLedger = new TableFrequencyCapLedger(clients.Tables, names);
        var sender = new SinkSender();
        // Customers with email consent: every message is sent (one status change each). Daytime ad email has no quiet hours.
        for (var c = 0; c < 100; c++)
        {
            await profiles.TrySaveAsync(new CustomerProfile { Key = new CustomerKey("bench", $"c{c}"), Email = $"c{c}@example.com", Consent = new MarketingConsent(true, true, true) }, null, CancellationToken.None);
        }

        async Task<(double Ops, double Seconds)> RunAsync(string side, ResultsRecorder? results)
        {
            var handler = new DeliveryHandler(deliveries, profiles, sender, queue, settings, clock, results: results, capLedger: capLedger);
            var before = requests;
            var watch = Stopwatch.StartNew();
            await Parallel.ForEachAsync(Enumerable.Range(0, messages), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            {
                var message = new DeliveryMessage("bench", $"c{i % 100}", $"{side}-{i:D7}",
                    new DeliveryOrder("welcome", 0, ChannelNames.Email, "welcome-coupon", MessageClass.Transactional, clock.GetUtcNow(), i % 2 == 0 ? "split:a" : "split:b"));
                if (await handler.HandleAsync(message, ct) != DeliveryHandling.Sent)
                {
                    throw new InvalidOperationException($"message {i} was not sent");
                }
            });
            return ((double)(requests - before) / messages, watch.Elapsed.TotalSeconds);
        }

        // Warm both paths (JIT, connections, table) before measuring.
        messages = Math.Max(messages, 100);
        await RunAsync("warm-a", null);
        await RunAsync("warm-b", new ResultsRecorder(ledger, settings, clock));
        var (bareOps, bareSeconds) = await RunAsync("bare", null);
        var (countedOps, countedSeconds) = await RunAsync("counted", new ResultsRecorder(ledger, settings, clock));
        var beforeFold = requests;
        var folded = await ledger.FoldAsync("welcome", CancellationToken.None);
        var foldOps = (double)(requests - beforeFold) / folded;

        output.WriteLine();
        output.WriteLine($"## Storage operations per recorded status change ({messages} messages each, 16 at a time)");
        output.WriteLine("| side | storage requests per message | messages/s |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| without counters (baseline) | {bareOps:0.00} | {messages / bareSeconds:0} |");
        output.WriteLine($"| with counters | {countedOps:0.00} | {messages / countedSeconds:0} |");
        output.WriteLine($"| difference | **+{countedOps - bareOps:0.00}** ({countedOps / bareOps:0.00}x) | {countedSeconds / bareSeconds:0.00}x the time |");
        output.WriteLine($"| fold, later (per fact folded; {folded} facts) | {foldOps:0.000} | |");
    }

    private static async Task ReadAsync(string connection, TextWriter output)
    {
        var clients = Clients(connection, null);
        var names = new StorageNames("bench" + Guid.NewGuid().ToString("N")[..8]);
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var ledger = new TableResultsLedger(clients.Tables, names);
        var clock = TimeProvider.System;
        var definitions = new TableJourneyDefinitionStore(clients.Tables, names);
        var library = new JourneyLibrary(definitions, new TableJourneyInstanceStore(clients.Tables, names), clock);
        await library.SeedAsync([JourneyCatalog.Welcome], CancellationToken.None);
        var service = new ResultsService(ledger, definitions, new PipelineSettings(Seoul), clock);
        var to = service.Today;
        var from = to.AddDays(-29);

        // 1M entered and 3M deliveries over 30 days, as the fold leaves them: per day and shard, the counters of
        // the facts that hash to that shard (groups, steps, channels, reasons, currencies as a busy journey has).
        var random = new Random(12);
        long entered = 0, delivered = 0;
        for (var d = 0; d < 30; d++)
        {
            var day = from.AddDays(d);
            for (var shard = 0; shard < TableResultsLedger.Shards; shard++)
            {
                var totals = new ResultCounters();
                void Add(string measure, int? step, string channel, string group, long count, string reason = "", string currency = "", decimal amount = 0) =>
                    totals.Add(new CounterKey(day, measure, step, channel, group, reason, currency), new CounterValue(count, amount * count, amount * amount * count));

                foreach (var group in new[] { "split:a", "split:b", Groups.Holdout })
                {
                    var share = group == Groups.Holdout ? 0.1 : 0.45;
                    var customers = (long)(1_000_000 * share / 30 / TableResultsLedger.Shards);
                    Add(Measures.Entered, null, "", group, customers);
                    entered += customers;
                    Add(Measures.GoalAfterEntry, null, "", group, customers / 12, currency: "KRW", amount: 39_000);
                    Add(Measures.Converted, null, "", group, customers / 20, currency: "KRW", amount: 39_000);
                    if (group == Groups.Holdout)
                    {
                        continue;
                    }

                    foreach (var (step, channel) in new[] { (0, "email"), (2, "sms"), (4, "kakao") })
                    {
                        var sent = customers * 10 / 9 + random.Next(0, 3); // 3 sends per messaged customer and a resend for one in nine
                        Add(Measures.Sent, step, channel, group, sent);
                        Add(Measures.Delivered, step, channel, group, sent * 97 / 100);
                        delivered += sent;
                        Add(Measures.Opened, step, channel, group, sent / 3);
                        Add(Measures.Clicked, step, channel, group, sent / 10);
                        Add(Measures.Unsubscribed, step, channel, group, sent / 500);
                        Add(Measures.Converted, step, channel, group, sent / 40, currency: "KRW", amount: 42_000);
                        Add(Measures.Converted, step, channel, group, sent / 4000, currency: "USD", amount: 31);
                        foreach (var reason in new[] { "no sms marketing consent", "address suppressed", "no phone number" })
                        {
                            Add(Measures.Suppressed, step, channel, group, sent / 200, reason);
                        }

                        Add(Measures.Deferred, step, channel, group, sent / 50, "quiet hours");
                        Add(Measures.Capped, step, channel, group, sent / 100, "skipped");
                    }
                }

                await ledger.ImportDayTotalsAsync("welcome", shard, day, totals, CancellationToken.None);
            }
        }

        // A backlog of facts recorded since the last fold (a minute of a busy journey): reads add them in.
        const int backlog = 1000;
        await Parallel.ForEachAsync(Enumerable.Range(0, backlog), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            await ledger.RecordAsync(new ResultFact(ResultFact.IdFor(Measures.Clicked, $"backlog-{i}"), "welcome", Measures.Clicked, clock.GetUtcNow()) { Step = 0, Channel = "email", Group = "split:a" }, to, ct));

        var report = await service.JourneyAsync("welcome", from, to, CancellationToken.None); // warm
        var counted = await TimeAsync(50, () => service.JourneyAsync("welcome", from, to, CancellationToken.None));

        // Without counters: the delivery log scanned for the journey's rows. Measured on a slice, scaled to 3M rows.
        const int slice = 30_000;
        var deliveries = clients.Tables.GetTableClient(names.Deliveries);
        foreach (var chunk in Enumerable.Range(0, slice).Chunk(100))
        {
            var partition = $"bench%2Fc{chunk[0] / 100}";
            await deliveries.SubmitTransactionAsync(chunk.Select(i => new Azure.Data.Tables.TableTransactionAction(Azure.Data.Tables.TableTransactionActionType.Add,
                new Azure.Data.Tables.TableEntity(partition, $"d{i:D7}") { ["JourneyId"] = "welcome", ["StepIndex"] = i % 3, ["Channel"] = "email", ["Status"] = "delivered" })));
        }

        var scan = await TimeAsync(3, async () =>
        {
            var rows = 0;
            await foreach (var _ in deliveries.QueryAsync<Azure.Data.Tables.TableEntity>(Azure.Data.Tables.TableClient.CreateQueryFilter($"JourneyId eq {"welcome"}"), select: ["StepIndex", "Status"]))
            {
                rows++;
            }

            return rows;
        });
        var scaled = scan.Median * (3_000_000.0 / slice);

        output.WriteLine();
        output.WriteLine($"## Reading a journey's results: {entered:N0} entered, {delivered:N0} deliveries over 30 days, {backlog} facts not yet folded");
        output.WriteLine("| side | median | p95 |");
        output.WriteLine("|---|---|---|");
        output.WriteLine($"| with counters: GET results' work (head + version + 8 shards' day totals and backlog + statistics), 50 reads | **{counted.Median:0.0} ms** | {counted.P95:0.0} ms |");
        output.WriteLine($"| without counters: scanning the delivery log, {slice:N0} rows measured | {scan.Median:0} ms | |");
        output.WriteLine($"| without counters, scaled to 3,000,000 rows | {scaled / 1000:0.0} s | |");
        output.WriteLine($"| ratio | {scaled / counted.Median:0}x faster with counters | |");
        output.WriteLine($"(read check: entered {report!.Entered:N0}, sent {report.Sent:N0}, clicked {report.Clicked:N0}, variants {report.Variants.Count}, holdout {(report.Holdout is null ? "none" : "yes")})");
    }

    private static async Task<(double Median, double P95)> TimeAsync<T>(int runs, Func<Task<T>> work)
    {
        var times = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await work();
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1]);
    }

    private static string Load() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private sealed class SinkSender : IChannelSender
    {
        public Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken) =>
            Task.FromResult(new SendOutcome(true, $"local:{message.DeliveryId}", null));
    }
}
