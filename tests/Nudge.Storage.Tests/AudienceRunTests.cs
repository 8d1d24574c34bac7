using Nudge.Channels;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;

namespace Nudge.Storage.Tests;

/// <summary>
/// A journey started for a segment's members on Azurite: the snapshot, paced slices from a checkpoint, every start
/// once when a slice runs twice or its checkpoint is lost, skips by reason, and the refusals of bad requests.
/// </summary>
public class AudienceRunTests
{
    private static readonly Segment Vip = new() { Id = "vip", Condition = Condition.Is("profile.points", "gte", "1000") };

    private sealed record Rig(Pipeline P, AudienceRunHandler Handler, IndexedProfileStore Profiles, TableAudienceRunStore Runs);

    private static async Task<Rig> RigAsync(string emailLimits = "30/1m,100/1h", bool sharedPace = false)
    {
        var p = await Pipeline.CreateAsync();
        var index = new SegmentIndex();
        var loader = new SegmentIndexLoader(p.Profiles, index, TimeProvider.System);
        await loader.LoadAsync(CancellationToken.None);
        var profiles = new IndexedProfileStore(p.Profiles, index);
        await p.Segments.SaveAsync(Vip, CancellationToken.None);
        var runs = new TableAudienceRunStore(p.Clients.Tables, p.Names);
        var rates = new ChannelRates(new EmailProviderOptions { RateLimits = emailLimits }, new SmsProviderOptions(), new KakaoProviderOptions(), new SolapiOptions(), new AcsSmsOptions());
        var entry = new ProfileEntry(p.Instances, p.Starter, new RecentSends(p.Instances, p.Settings, p.Clock), p.Settings, p.Clock);
        var handler = new AudienceRunHandler(runs, new BlobImportFiles(p.Clients.Blobs, p.Names), p.Queue, p.Segments, index, loader, p.Library, profiles, entry, rates,
            p.Settings, new AudienceSettings(SliceSpan: TimeSpan.FromSeconds(5)), p.Clock,
            sharedPace ? new AudiencePacing(new TableRateLimitStore(p.Clients.Tables, p.Names), p.Time) : null);
        return new Rig(p, handler, profiles, runs);
    }

    private static CustomerProfile Customer(int id, long points) => new() { Key = new CustomerKey("shopify", $"{id}"), PointsBalance = points };

    private static async Task SaveAsync(Rig rig, CustomerProfile profile)
    {
        var current = await rig.Profiles.GetAsync(profile.Key, CancellationToken.None);
        Assert.True(await rig.Profiles.TrySaveAsync(profile, current?.Version, CancellationToken.None));
    }

    private static Task<AudienceRun?> SliceAsync(Rig rig, string runId, int slice) =>
        rig.Handler.RunSliceAsync(new AudienceSliceMessage(runId, slice), rig.P.Runtime, CancellationToken.None);

    [Fact]
    public async Task RunSlice_PacedSlicesFromTheSnapshot_EachMemberStartedOnce_RepeatedSlicesAndALostCheckpointChangeNothing()
    {
        var rig = await RigAsync(emailLimits: "120/1s");
        foreach (var id in Enumerable.Range(1, 15))
        {
            await SaveAsync(rig, Customer(id, id <= 12 ? 5000 : 10));
        }

        // Customer 1 is in the welcome already (their signup started it).
        await rig.P.Starter.StartAsync(rig.P.Runtime, JourneyCatalog.Welcome, new CustomerKey("shopify", "1"), rig.P.Context(null),
            new EntryTrigger("signup-1", null, new Dictionary<string, string>()), CancellationToken.None);

        var start = await rig.Handler.StartAsync("welcome", "vip", perMinute: 60, CancellationToken.None);
        var run = Assert.IsType<AudienceStart.Started>(start).Run;
        // After the snapshot: customer 2 leaves the segment, customer 3 is erased.
        await SaveAsync(rig, Customer(2, 10));
        Assert.True(await rig.Profiles.DeleteAsync(new CustomerKey("shopify", "3"), CancellationToken.None));

        var first = await SliceAsync(rig, run.Id, 0);
        await SliceAsync(rig, run.Id, 0); // the same message delivered again
        var afterFirst = (await rig.Runs.GetAsync(run.Id, CancellationToken.None))!.Value;
        await SliceAsync(rig, run.Id, 1);
        // The second slice's checkpoint is lost (a crash before it was saved): the slice runs again from the first's.
        var current = (await rig.Runs.GetAsync(run.Id, CancellationToken.None))!;
        Assert.NotNull(await rig.Runs.TrySaveAsync(afterFirst with { SliceQueued = false }, current.Version, CancellationToken.None));
        await SliceAsync(rig, run.Id, 1);
        await SliceAsync(rig, run.Id, 1);
        var last = await SliceAsync(rig, run.Id, 2);
        await SliceAsync(rig, run.Id, 2); // the copy of slice 2 the rerun of slice 1 queued
        var progress = await rig.Handler.ProgressAsync("welcome", run.Id, CancellationToken.None);

        Assert.Equal((12, 60.0, 5), (run.Members, run.PerMinute, rig.Handler.SliceSize(run)));
        Assert.Equal((5, 7.0), (first!.Done, AudienceRunProgress.Of(first).EtaSeconds)); // 7 left at one a second
        Assert.Equal(AudienceRunStatus.Completed, last!.Status);
        Assert.Equal((12, 9, 0L), (progress!.Members, progress.Started, progress.Remaining));
        Assert.Equal(new AudienceSkips(AlreadyInJourney: 1, NotMatching: 1, Refused: 0, Gone: 1), progress.Skipped);
        Assert.Equal(10, rig.P.Runtime.Starts); // customer 1's own start and the nine: none twice
        var coupons = await rig.P.QueuedDeliveriesAsync(ChannelNames.Email);
        Assert.Equal(10, coupons.Select(c => c.DeliveryId).Distinct().Count());
        // Slices 0, 1 (once, however often slice 0 ran), 2 and the copy of 2 from the rerun of 1 (whose first run, here, got to queue it).
        Assert.Equal(4, await rig.P.AllMessagesAsync(StorageNames.AudienceSlicesQueue));
    }

    [Fact]
    public async Task Stall_AfterTheQueuesLastAttempt_ShowsWhyAndNoEstimate_AReplayedSliceResumesFromTheCheckpoint()
    {
        var rig = await RigAsync(emailLimits: "120/1s");
        foreach (var id in Enumerable.Range(1, 8))
        {
            await SaveAsync(rig, Customer(id, 5000));
        }

        var run = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", perMinute: 60, CancellationToken.None)).Run;
        await SliceAsync(rig, run.Id, 0);
        var stalled = await rig.Handler.StallAsync(run.Id, "gave up after 5 attempts (RequestFailedException)", CancellationToken.None);
        var whileStalled = await rig.Handler.ProgressAsync("welcome", run.Id, CancellationToken.None);
        var resumed = await SliceAsync(rig, run.Id, 1); // the poisoned message, replayed
        var stalledAfterTheEnd = await rig.Handler.StallAsync(run.Id, "late", CancellationToken.None);

        Assert.Equal(AudienceRunStatus.Stalled, stalled!.Status);
        Assert.Equal(("stalled", "gave up after 5 attempts (RequestFailedException)", 3L, 0.0),
            (whileStalled!.Status, whileStalled.Problem, whileStalled.Remaining, whileStalled.EtaSeconds));
        Assert.Equal((AudienceRunStatus.Completed, 8L, (string?)null), (resumed!.Status, resumed.Started, resumed.Problem));
        Assert.Equal(AudienceRunStatus.Completed, stalledAfterTheEnd!.Status); // an ended run is left as it is
        Assert.Equal(8, rig.P.Runtime.Starts);
    }

    [Fact]
    public async Task RunSlice_TwoRunsOnOneChannel_ShareItsRate_ASliceWhoseTurnIsNotNearStartsNobodyAndWaits()
    {
        // 12 a minute: a start slot every 5.25 s, so a slice of the 5 s span takes one member.
        var rig = await RigAsync(emailLimits: "12/1m", sharedPace: true);
        foreach (var id in Enumerable.Range(1, 4))
        {
            await SaveAsync(rig, Customer(id, 5000));
        }

        var first = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", perMinute: null, CancellationToken.None)).Run;
        var second = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", perMinute: null, CancellationToken.None)).Run;
        var queuedAtStart = await rig.P.AllMessagesAsync(StorageNames.AudienceSlicesQueue);

        var firstTook = await SliceAsync(rig, first.Id, 0);
        var secondWaited = await SliceAsync(rig, second.Id, 0); // the channel's next slot is 5.25 s away: past the 5 s span
        var queuedWhileWaiting = await rig.P.AllMessagesAsync(StorageNames.AudienceSlicesQueue);
        rig.P.Time.Advance(TimeSpan.FromSeconds(5.25));
        var secondTook = await SliceAsync(rig, second.Id, 0);
        var firstWaited = await SliceAsync(rig, first.Id, 1); // its turn comes after the second run's slot
        rig.P.Time.Advance(TimeSpan.FromSeconds(5.25));
        var firstTookAgain = await SliceAsync(rig, first.Id, 1);

        Assert.Equal((1, 1), (rig.Handler.SliceSize(first), rig.Handler.SliceSize(second)));
        Assert.Equal((1L, 1), (firstTook!.Done, firstTook.Slice));
        Assert.Equal((0L, 0), (secondWaited!.Done, secondWaited.Slice));
        Assert.Equal(queuedAtStart + 2, queuedWhileWaiting); // the first run's next slice, and the second's own slice again
        Assert.Equal((1L, 1), (secondTook!.Done, secondTook.Slice));
        Assert.Equal((1L, 1), (firstWaited!.Done, firstWaited.Slice));
        Assert.Equal((2L, 2), (firstTookAgain!.Done, firstTookAgain.Slice));
    }

    [Fact]
    public async Task Start_PaceIsTheFirstChannelsRate_BadRequestsRefused()
    {
        var rig = await RigAsync(emailLimits: "30/1m,100/1h");
        await SaveAsync(rig, Customer(1, 5000));

        var byChannel = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", null, CancellationToken.None)).Run;
        var unknownSegment = await rig.Handler.StartAsync("welcome", "nope", null, CancellationToken.None);
        var unknownJourney = await rig.Handler.StartAsync("nope", "vip", null, CancellationToken.None);
        var zero = await rig.Handler.StartAsync("welcome", "vip", 0, CancellationToken.None);
        var faster = await rig.Handler.StartAsync("welcome", "vip", 2, CancellationToken.None);
        await rig.P.Library.PauseAsync("welcome", CancellationToken.None);
        rig.P.Time.Advance(JourneyLibrary.CacheFor + TimeSpan.FromSeconds(1));
        var paused = await rig.Handler.StartAsync("welcome", "vip", null, CancellationToken.None);

        // 100 an hour is the tighter limit: a start every 36 s, widened by the throttle's margin.
        Assert.Equal(Math.Round(60 / (36 * (1 + RateSchedule.Margin)), 3), byChannel.PerMinute);
        Assert.Equal((1, 1), (byChannel.Members, rig.Handler.SliceSize(byChannel)));
        Assert.IsType<AudienceStart.UnknownSegment>(unknownSegment);
        Assert.IsType<AudienceStart.UnknownJourney>(unknownJourney);
        Assert.IsType<AudienceStart.InvalidPace>(zero);
        Assert.Contains("at most 1.587", Assert.IsType<AudienceStart.InvalidPace>(faster).Problem);
        Assert.Equal(JourneyStatus.Paused, Assert.IsType<AudienceStart.JourneyNotActive>(paused).Status);
    }

    [Fact]
    public async Task Start_RepeatedWithTheSameKey_AnswersTheFirstRun_QueuesOneSlice()
    {
        var rig = await RigAsync(emailLimits: "120/1s");
        await SaveAsync(rig, Customer(1, 5000));

        var first = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", 60, CancellationToken.None, requestKey: "campaign-7"));
        var repeated = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => rig.Handler.StartAsync("welcome", "vip", 60, CancellationToken.None, requestKey: "campaign-7")));
        var otherKey = Assert.IsType<AudienceStart.Started>(await rig.Handler.StartAsync("welcome", "vip", 60, CancellationToken.None, requestKey: "campaign-8"));

        Assert.True(first.New);
        Assert.All(repeated, r => Assert.Equal((first.Run.Id, false), (Assert.IsType<AudienceStart.Started>(r).Run.Id, ((AudienceStart.Started)r).New)));
        Assert.NotEqual(first.Run.Id, otherKey.Run.Id);
        Assert.True(AudienceRunHandler.IsRunId(first.Run.Id));
        Assert.Equal(2, await rig.P.AllMessagesAsync(StorageNames.AudienceSlicesQueue));
    }
}
