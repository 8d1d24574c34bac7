using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;
using Nudge.Storage;

namespace Nudge.Benchmarks;

/// <summary>
/// Segment sizes from the segment index against the full scan of the profile table that answered them before (read
/// every profile, evaluate the condition), in the same run: the Bigin presets over <c>stored</c> profiles on Azurite
/// (scan, index load, index count), then the index alone over <c>inMemory</c> synthetic profiles for its time and
/// bytes per profile at scale.
/// </summary>
public static class SegmentIndexRun
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 1, 35, 0, TimeSpan.Zero);

    public static async Task RunAsync(string connection, int stored, int inMemory, TextWriter output)
    {
        var presets = AudiencePresets.Bigin;
        output.WriteLine($"Segment index benchmark: {presets.Count} Bigin presets; {stored:N0} profiles on Azurite, {inMemory:N0} in memory");

        var clients = StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
        }).Build(), "AzureWebJobsStorage");
        var names = new StorageNames("s" + Guid.NewGuid().ToString("N")[..8]);
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var profiles = new TableProfileStore(clients.Tables, names);
        var fill = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, stored), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) => await profiles.TrySaveAsync(Profile(i), null, ct));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled the table in {fill.Elapsed.TotalSeconds:N1} s"));

        // Baseline: what GET /api/segments/{id}/size did, once per preset.
        var scan = Stopwatch.StartNew();
        var scanned = new List<int>();
        foreach (var segment in presets)
        {
            var members = 0;
            await foreach (var profile in profiles.ListAsync(CancellationToken.None))
            {
                members += segment.Condition.Evaluate(CustomerFacts.OfProfile(profile), new EvaluationTime(Now, CustomerContexts.ZoneOf(profile, Seoul))) ? 1 : 0;
            }

            scanned.Add(members);
        }

        var scanSeconds = scan.Elapsed.TotalSeconds;
        var index = new SegmentIndex();
        var load = Stopwatch.StartNew();
        await new SegmentIndexLoader(profiles, index, TimeProvider.System).LoadAsync(CancellationToken.None);
        var loadSeconds = load.Elapsed.TotalSeconds;
        var count = Stopwatch.StartNew();
        var counted = presets.Select(s => index.Count(s, presets, Now, Seoul)).ToList();
        var countSeconds = count.Elapsed.TotalSeconds;
        if (!counted.SequenceEqual(scanned))
        {
            throw new InvalidOperationException($"The index counted {string.Join(",", counted)}, the scan {string.Join(",", scanned)}.");
        }

        output.WriteLine("| side | profiles | all presets | per preset | ratio |");
        output.WriteLine("|---|---:|---:|---:|---:|");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| full scan of the profile table (baseline) | {stored:N0} | {scanSeconds:N2} s | {scanSeconds / presets.Count * 1000:N1} ms | 1 |"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| index count | {stored:N0} | {countSeconds * 1000:N1} ms | {countSeconds / presets.Count * 1000:N2} ms | {scanSeconds / countSeconds:N0}× faster |"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| index load from the table (once a start) | {stored:N0} | {loadSeconds:N2} s | | |"));

        // At scale, in memory: bytes a profile and the time of each preset.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var large = new SegmentIndex();
        for (var i = 0; i < inMemory; i++)
        {
            large.Upsert(Profile(i));
        }

        var after = GC.GetTotalMemory(forceFullCollection: true);
        var times = new List<double>();
        var pages = Stopwatch.StartNew();
        var (page, _) = large.Members(presets[0], presets, Now, Seoul, -1, 1000);
        var pageMs = pages.Elapsed.TotalMilliseconds;
        foreach (var segment in presets)
        {
            var one = Stopwatch.StartNew();
            large.Count(segment, presets, Now, Seoul);
            times.Add(one.Elapsed.TotalMilliseconds);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| index count | {inMemory:N0} | {times.Sum():N0} ms | {times.Average():N1} ms (slowest {times.Max():N1} ms) | |"));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Index memory: {(after - before) / (double)inMemory:N0} bytes a profile ({(after - before) / 1024.0 / 1024:N0} MiB for {inMemory:N0}); first page of 1,000 members of {presets[0].Id}: {pageMs:N1} ms ({page.Count} members)"));
        GC.KeepAlive(large);
    }

    /// <summary>A customer of a shop's few years: signups over 3 years, most with an order, logins, points, consent, a few in another zone.</summary>
    private static CustomerProfile Profile(int i)
    {
        var random = new Random(i);
        var signedUp = Now.AddMinutes(-random.Next(1, 60 * 24 * 1100));
        DateTimeOffset? firstOrder = random.Next(10) < 6 ? signedUp.AddDays(random.Next(0, 60)) : null;
        var lastOrder = firstOrder?.AddDays(random.Next(0, 400));
        var lastLogin = signedUp.AddDays(random.Next(0, 800));
        return new CustomerProfile
        {
            Key = new CustomerKey("shopify", (7_000_000_000L + i).ToString(CultureInfo.InvariantCulture)),
            ShopDomain = "bench.myshopify.com",
            Email = $"c{i}@example.com",
            SignedUpAt = signedUp,
            FirstOrderAt = firstOrder < Now ? firstOrder : null,
            LastOrderAt = lastOrder < Now ? lastOrder : null,
            Orders = firstOrder is null ? OrderSet.None : OrderSet.None.With($"a{i}").With($"b{i}"),
            LastLoginAt = lastLogin < Now ? lastLogin : null,
            LastSeenAt = lastLogin < Now ? lastLogin : signedUp,
            PointsBalance = random.Next(0, 15_000),
            Consent = new MarketingConsent(random.Next(2) == 0, random.Next(3) == 0, false),
            TimeZone = random.Next(50) == 0 ? "America/New_York" : null,
        };
    }
}
