using System.Diagnostics;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>
/// The durable shell on Azurite: the whole app (webhook, journey, timers, workers via the local trigger driver)
/// runs welcome journeys to completion; every storage request the app makes is counted by type. The reference,
/// in the same run, is Azurite's raw rate for single table inserts.
/// </summary>
public static class ShellRun
{
    /// <summary>Counts storage requests by kind.</summary>
    private sealed class CountingPolicy
    {
        public readonly Dictionary<string, int> Counts = new();
        public readonly Dictionary<string, int> ByResource = new();

        /// <summary>The function whose invocation made the request (its activity); outside any: an HTTP request or the driver.</summary>
        private static string Stage()
        {
            for (var activity = Activity.Current; activity is not null; activity = activity.Parent)
            {
                if (activity.Source.Name == FunctionInvoker.ActivitySourceName)
                {
                    return activity.OperationName;
                }
            }

            return "http, driver"; // webhook requests, and the trigger driver's own receives and deletes
        }

        /// <summary>The table, queue or container a request addresses, without the run's prefix, to tell the stages apart.</summary>
        private static string Resource(Uri uri)
        {
            var segments = uri.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var name = segments.Length > 1 ? segments[1] : segments.LastOrDefault() ?? "";
            name = name.Split('(')[0];
            return name.Length > 9 && name.StartsWith('b') ? name[9..].TrimStart('-') : name;
        }

        public CountingPolicy() => Observer = new StorageObserver((message, _) => Count(message));

        public StorageObserver Observer { get; }

        private void Count(HttpMessage message)
        {
            var uri = message.Request.Uri.ToUri();
            var service = uri.AbsolutePath.Contains("/messages", StringComparison.Ordinal) ? "queue"
                : message.Request.Headers.TryGetValue("DataServiceVersion", out _) ? "table" : "blob";
            var emptyReceive = message.Request.Method == RequestMethod.Get && uri.AbsolutePath.EndsWith("/messages", StringComparison.Ordinal)
                && !message.Response.Content.ToString().Contains("<QueueMessage>", StringComparison.Ordinal);
            var key = emptyReceive ? "idle poll (empty receive)" : $"{service} {message.Request.Method}";
            var resource = $"{Stage(),-14} {service} {message.Request.Method} {Resource(uri)}";
            lock (Counts)
            {
                Counts[key] = Counts.GetValueOrDefault(key) + 1;
                if (!emptyReceive)
                {
                    ByResource[resource] = ByResource.GetValueOrDefault(resource) + 1;
                }
            }
        }
    }

    public static async Task RunAsync(string connectionString, int journeys, int clockSpeed, int startHour, TextWriter output)
    {
        var reference = await RawInsertRateAsync(connectionString);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == FunctionInvoker.ActivitySourceName, // by name: the source may not exist yet
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
        };
        ActivitySource.AddActivityListener(listener);
        var counter = new CountingPolicy();
        var prefix = "b" + Guid.NewGuid().ToString("N")[..8];
        // Virtual time reaches Monday at the given hour KST when the signups begin, whatever the hour of the run and
        // however long the app takes to start, so runs compare.
        var signupsFrom = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        var settings = new TableClient(connectionString, new Nudge.Storage.StorageNames(prefix).Settings);
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
            ["Shopify:WebhookSecret"] = "bench-secret",
            ["Nudge:MarketerApiKey"] = "bench-marketer-key-0001",
            ["NUDGE_CLOCK_SPEED"] = clockSpeed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = Environment.GetEnvironmentVariable("BENCH_LOG_LEVEL") ?? "Warning",
        }), counter.Observer);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        if (signupsFrom - DateTimeOffset.UtcNow is { Ticks: > 0 } untilSignups)
        {
            await Task.Delay(untilSignups);
        }

        lock (counter.Counts)
        {
            counter.Counts.Clear(); // start-up provisioning and seeding are not per-journey work
            counter.ByResource.Clear();
        }

        var watch = Stopwatch.StartNew();
        // Signups arrive 16 at a time, as from a busy shop (the journey workers then receive several per poll).
        await Parallel.ForAsync(0, journeys, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var body = Encoding.UTF8.GetBytes($$$"""{"id":{{{900000 + i}}},"email":"b{{{i}}}@example.com","phone":"+821000000000","created_at":"2026-01-05T10:00:00+09:00","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":{"state":"subscribed"}}""");
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shopify") { Content = new ByteArrayContent(body) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.Add("X-Shopify-Topic", "customers/create");
            request.Headers.Add("X-Shopify-Shop-Domain", "bench.myshopify.com");
            request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Hmac-Sha256", WebhookSignature.Compute(body, "bench-secret"u8));
            (await http.SendAsync(request, ct)).EnsureSuccessStatusCode();
        });

        var deliveries = new TableClient(connectionString, new Nudge.Storage.StorageNames(prefix).Deliveries);
        while (true)
        {
            var sent = 0;
            await foreach (var _ in deliveries.QueryAsync<TableEntity>(e => e.GetString("Status") == "sent", select: ["Status"]))
            {
                sent++;
            }

            if (sent >= journeys * 2)
            {
                break;
            }

            if (watch.Elapsed > TimeSpan.FromMinutes(5))
            {
                throw new TimeoutException($"only {sent} of {journeys * 2} messages sent after 5 minutes");
            }

            await Task.Delay(200);
        }

        watch.Stop();
        await app.StopAsync();
        Dictionary<string, int> counts, byResource;
        lock (counter.Counts)
        {
            counts = new Dictionary<string, int>(counter.Counts);
            byResource = new Dictionary<string, int>(counter.ByResource);
        }

        var work = counts.Where(c => !c.Key.StartsWith("idle", StringComparison.Ordinal)).Sum(c => c.Value);
        output.WriteLine($"welcome journeys          {journeys} (signup → coupon email → 2 virtual days → SMS), clock speed {clockSpeed}, virtual start Monday {startHour:00}:00 KST");
        output.WriteLine($"journeys/s                {journeys / watch.Elapsed.TotalSeconds:F1}  ({watch.Elapsed.TotalSeconds:F1} s)");
        output.WriteLine($"storage ops per journey   {(double)work / journeys:F1} (excluding empty queue polls)");
        foreach (var (kind, count) in counts.OrderByDescending(c => c.Value))
        {
            output.WriteLine($"  {kind,-28} {(double)count / journeys,6:F2} per journey");
        }

        output.WriteLine("by resource:");
        foreach (var (kind, count) in byResource.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            output.WriteLine($"  {kind,-40} {(double)count / journeys,6:F2} per journey");
        }

        output.WriteLine($"reference: Azurite raw    {reference:F0} single table inserts/s");
        output.WriteLine($"storage ops/s in the run  {work / watch.Elapsed.TotalSeconds:F0}  ({work / watch.Elapsed.TotalSeconds / reference:F2} of the raw insert rate)");
    }

    private static async Task<double> RawInsertRateAsync(string connectionString)
    {
        var table = new TableClient(connectionString, "benchraw" + Guid.NewGuid().ToString("N")[..8]);
        await table.CreateIfNotExistsAsync();
        var watch = Stopwatch.StartNew();
        var n = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(3))
        {
            await table.AddEntityAsync(new TableEntity("p", n.ToString()) { ["V"] = n });
            n++;
        }

        await table.DeleteAsync();
        return n / watch.Elapsed.TotalSeconds;
    }
}
