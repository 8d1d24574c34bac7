using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Nudge.Channels;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;
using Nudge.Core.Time;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>
/// A journey started for a segment's members (<see cref="AudienceRunHandler"/>: the snapshot, then its slices back to
/// back, no pacing) against the entry a scheduled journey makes for the same customers (<see cref="ScheduledEntryHandler"/>:
/// a scan of the profile table, the same per-customer entry), in the same run on Azurite: starts per second and
/// storage requests per start. Runs start in memory (the orchestration's own cost is the journeys benchmark's). Then
/// the snapshot alone for a segment of <c>snapshot</c> members held in the index.
/// </summary>
public static class AudienceRun
{
    private static readonly Segment Everyone = new() { Id = "everyone", Condition = Condition.Is("profile.points", "gte", "0") };

    public static async Task RunAsync(string connection, int members, int snapshot, TextWriter output)
    {
        long requests = 0;
        var observer = new StorageObserver((_, _) => Interlocked.Increment(ref requests));
        var clients = StorageClients.FromConfiguration(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = connection,
        }).Build(), "AzureWebJobsStorage", observer);
        var names = new StorageNames("a" + Guid.NewGuid().ToString("N")[..8]);
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);

        var clock = new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1));
        var settings = new PipelineSettings(TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul"));
        var profiles = new TableProfileStore(clients.Tables, names);
        var instances = new TableJourneyInstanceStore(clients.Tables, names);
        var queue = new StorageWorkQueue(clients.Queues, names, clock);
        var library = new JourneyLibrary(new TableJourneyDefinitionStore(clients.Tables, names), instances, clock);
        await library.SeedAsync(JourneyCatalog.OnByDefault, CancellationToken.None);
        await library.SaveDraftAsync(JourneyCatalog.Welcome with { Id = "welcome-b" }, CancellationToken.None);
        await library.PublishAsync("welcome-b", CancellationToken.None);
        var segments = new SegmentLibrary(new TableSegmentStore(clients.Tables, names));
        await segments.SaveAsync(Everyone, CancellationToken.None);
        var recentSends = new RecentSends(instances, settings, clock);
        var effects = new InstanceEffects(instances, profiles, queue, recentSends, library, settings);
        var starter = new JourneyStarter(instances, effects, new TableMarketingJourneyLedger(clients.Tables, names), clock);
        var runtime = new InMemoryJourneyRuntime(effects, clock);
        var rates = new ChannelRates(new EmailProviderOptions { RateLimits = "100000/1s" }, new SmsProviderOptions(), new KakaoProviderOptions(), new SolapiOptions(), new AcsSmsOptions());

        await Parallel.ForEachAsync(Enumerable.Range(0, members), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, ct) => await profiles.TrySaveAsync(Profile(i), null, ct));
        var index = new SegmentIndex();
        var loader = new SegmentIndexLoader(profiles, index, TimeProvider.System);
        await loader.LoadAsync(CancellationToken.None);
        var audiences = Handler(clients, names, queue, segments, index, loader, library, profiles, instances, starter, recentSends, rates, settings, clock);
        var schedules = new ScheduledEntryHandler(profiles, instances, starter, recentSends, library, new TableScheduleCursor(clients.Tables, names), segments, settings, clock);

        output.WriteLine($"Audience run benchmark: {members:N0} stored customers, all in the segment; Azurite, runs in memory");
        output.WriteLine("| side | starts | seconds | starts/s | storage requests | requests/start |");
        output.WriteLine("|---|---:|---:|---:|---:|---:|");
        async Task<(double Seconds, long Requests, long Starts)> MeasureAsync(Func<Task<long>> work)
        {
            var before = Interlocked.Read(ref requests);
            var watch = Stopwatch.StartNew();
            var starts = await work();
            return (watch.Elapsed.TotalSeconds, Interlocked.Read(ref requests) - before, starts);
        }

        void Row(string side, (double Seconds, long Requests, long Starts) m) =>
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {side} | {m.Starts:N0} | {m.Seconds:N1} | {m.Starts / m.Seconds:N0} | {m.Requests:N0} | {(double)m.Requests / m.Starts:N2} |"));

        var scheduled = await MeasureAsync(async () =>
            await schedules.EnterAsync((await library.ActiveAsync(CancellationToken.None)).Single(j => j.Id == "welcome-b") with { Entry = new JourneyEntry { Filter = Everyone.Condition } },
                clock.GetUtcNow(), runtime, CancellationToken.None));
        Row("scheduled entry over a table scan (baseline)", scheduled);
        var audience = await MeasureAsync(async () =>
        {
            var run = ((AudienceStart.Started)await audiences.StartAsync("welcome", Everyone.Id, null, CancellationToken.None)).Run;
            for (var slice = 0; run.Status == AudienceRunStatus.Running; slice++)
            {
                run = (await audiences.RunSliceAsync(new AudienceSliceMessage(run.Id, slice), runtime, CancellationToken.None))!;
            }

            return run.Started;
        });
        Row("audience run (snapshot + slices of 500)", audience);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Ratio (audience / baseline): {audience.Seconds / scheduled.Seconds:N2}× the time, {(double)audience.Requests / audience.Starts / ((double)scheduled.Requests / scheduled.Starts):N2}× the requests a start"));

        // The snapshot alone at scale: the index in memory, the member file to blob storage.
        var large = new SegmentIndex();
        for (var i = 0; i < snapshot; i++)
        {
            large.Upsert(Profile(i));
        }

        large.MarkLoaded();
        var big = Handler(clients, names, queue, segments, large, new SegmentIndexLoader(profiles, large, TimeProvider.System), library, profiles, instances, starter, recentSends, rates, settings, clock);
        var watch = Stopwatch.StartNew();
        var started = (AudienceStart.Started)await big.StartAsync("welcome", Everyone.Id, null, CancellationToken.None);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Snapshot of {started.Run.Members:N0} members (the POST's work): {watch.Elapsed.TotalSeconds:N2} s"));
    }

    private static AudienceRunHandler Handler(
        StorageClients clients, StorageNames names, StorageWorkQueue queue, SegmentLibrary segments, SegmentIndex index, SegmentIndexLoader loader, JourneyLibrary library,
        TableProfileStore profiles, TableJourneyInstanceStore instances, JourneyStarter starter, RecentSends recentSends, ChannelRates rates, PipelineSettings settings, VirtualClock clock) =>
        new(new TableAudienceRunStore(clients.Tables, names), new BlobImportFiles(clients.Blobs, names), queue, segments, index, loader, library, profiles,
            new ProfileEntry(instances, starter, recentSends, settings, clock), rates, settings, new AudienceSettings(), clock);

    private static CustomerProfile Profile(int i) => new() { Key = new CustomerKey("shopify", i.ToString(CultureInfo.InvariantCulture)), PointsBalance = i % 20_000 };
}
