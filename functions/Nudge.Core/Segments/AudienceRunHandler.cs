using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Nudge.Core.Delivery;
using Nudge.Core.Imports;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Segments;

/// <summary>
/// How audience runs go: the time one slice's starts span (the next slice is due that much later), the most members
/// a slice takes, starts in parallel within a slice, the pace of a journey that sends nothing, and how long a start
/// waits for the segment index after the app started.
/// </summary>
public sealed record AudienceSettings(
    TimeSpan? SliceSpan = null, int MaxSliceMembers = 500, int Parallelism = 8, double NoChannelPerMinute = 600, TimeSpan? IndexWait = null)
{
    public TimeSpan Span => SliceSpan ?? TimeSpan.FromSeconds(5);

    public TimeSpan WaitForIndex => IndexWait ?? TimeSpan.FromSeconds(20);
}

/// <summary>
/// The start slots audience runs share per channel (in the store the provider throttles use, under their own bucket
/// names), on real time: the channels' limits are.
/// </summary>
public sealed record AudiencePacing(IRateLimitStore Slots, TimeProvider RealClock);

public abstract record AudienceStart
{
    /// <param name="New">False: a request with the same idempotency key started this run before.</param>
    public sealed record Started(AudienceRun Run, bool New = true) : AudienceStart;

    public sealed record UnknownSegment(string SegmentId) : AudienceStart;

    public sealed record UnknownJourney(string JourneyId) : AudienceStart;

    public sealed record JourneyNotActive(string JourneyId, JourneyStatus Status) : AudienceStart;

    public sealed record InvalidPace(string Problem) : AudienceStart;

    /// <summary>The app is loading its segment index after a start: ask again shortly.</summary>
    public sealed record IndexLoading : AudienceStart;
}

/// <summary>
/// Starts a journey for a segment's members at a pace the journey's first channel can carry. The request snapshots
/// the member ids (as the segment index answers them then) into a file and queues the first slice; each slice starts
/// the next members through the journey starter (the same entry a schedule makes: condition, cross-journey rules,
/// the starter's claim), saves the checkpoint and counts, and queues the next slice after the time its starts take
/// at the pace. Every entry is triggered by the run's id, so a slice run twice (a redelivered message, a crash before
/// the checkpoint) starts no one twice. Consent, quiet hours and caps are left to the sends, as for any journey.
/// </summary>
/// <param name="pacing">Start slots shared by every run on a channel; without it each run keeps its own pace alone.</param>
public sealed class AudienceRunHandler(
    IAudienceRunStore store, IImportFiles files, IAudienceQueue queue, SegmentLibrary segments, SegmentIndex index, SegmentIndexLoader loader,
    IJourneyCatalog catalog, IProfileStore profiles, ProfileEntry entry, IChannelRates rates, PipelineSettings settings, AudienceSettings audience,
    TimeProvider clock, AudiencePacing? pacing = null)
{
    private const int SnapshotPage = 1000;

    /// <param name="requestKey">The client's idempotency key: a request repeated with it answers the run the first one started.</param>
    public async Task<AudienceStart> StartAsync(string journeyId, string segmentId, double? perMinute, CancellationToken cancellationToken, string? requestKey = null)
    {
        var id = requestKey is null ? $"aud-{Guid.NewGuid():N}" : IdOf(journeyId, segmentId, requestKey);
        if (requestKey is not null && await store.GetAsync(id, cancellationToken) is { } repeated)
        {
            return new AudienceStart.Started(repeated.Value, New: false);
        }

        var all = await segments.AllAsync(cancellationToken);
        if (all.FirstOrDefault(s => s.Id == segmentId) is not { } segment)
        {
            return new AudienceStart.UnknownSegment(segmentId);
        }

        if ((await catalog.ActiveAsync(cancellationToken)).FirstOrDefault(j => j.Id == journeyId) is not { } journey)
        {
            return await catalog.StatusAsync(journeyId, cancellationToken) is { } status
                ? new AudienceStart.JourneyNotActive(journeyId, status)
                : new AudienceStart.UnknownJourney(journeyId);
        }

        var (pace, problem) = PaceOf(journey, perMinute);
        if (problem is not null)
        {
            return new AudienceStart.InvalidPace(problem);
        }

        if (!await loader.WaitLoadedAsync(audience.WaitForIndex, cancellationToken))
        {
            return new AudienceStart.IndexLoading();
        }

        await loader.RefreshForRequestAsync(SegmentIndexLoader.RefreshInterval, audience.WaitForIndex, cancellationToken);
        var now = clock.GetUtcNow();
        var file = $"audiences/{id}-{Guid.NewGuid():N}.csv"; // its own file: a concurrent repeat's snapshot never overwrites it
        var members = await SnapshotAsync(file, segment, all, now, cancellationToken);
        var run = new AudienceRun
        {
            Id = id, JourneyId = journeyId, SegmentId = segmentId, File = file, Members = members, PerMinute = pace, RequestedAt = now, UpdatedAt = now,
        };
        if (await store.TrySaveAsync(run, null, cancellationToken) is null)
        {
            await files.DeleteAsync(file, cancellationToken);
            return new AudienceStart.Started((await store.GetAsync(id, cancellationToken))!.Value, New: false);
        }

        await queue.EnqueueAudienceSliceAsync(new AudienceSliceMessage(id, 0), TimeSpan.Zero, cancellationToken);
        return new AudienceStart.Started(run);
    }

    /// <summary>A keyed request's run id: a hash of the journey, the segment and the key.</summary>
    public static string IdOf(string journeyId, string segmentId, string requestKey) =>
        "aud-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes($"{journeyId}\n{segmentId}\n{requestKey}")))[..32];

    public static bool IsRunId(string? id) =>
        id is { Length: 36 } && id.StartsWith("aud-", StringComparison.Ordinal) && id[4..].All(char.IsAsciiHexDigitLower);

    public async Task<AudienceRunProgress?> ProgressAsync(string journeyId, string runId, CancellationToken cancellationToken) =>
        await store.GetAsync(runId, cancellationToken) is { } run && run.Value.JourneyId == journeyId ? AudienceRunProgress.Of(run.Value) : null;

    /// <summary>
    /// Starts the members of the slice the message names, if it is the run's next; a copy of the slice before, whose
    /// run stopped before queuing the next, queues it. Returns the run as it stands (null for an unknown run).
    /// </summary>
    public async Task<AudienceRun?> RunSliceAsync(AudienceSliceMessage message, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var current = await store.GetAsync(message.RunId, cancellationToken);
        if (current is not { Value.Status: AudienceRunStatus.Running or AudienceRunStatus.Stalled })
        {
            return current?.Value;
        }

        var (run, version) = (current.Value, current.Version);
        if (message.Slice != run.Slice)
        {
            if (message.Slice == run.Slice - 1 && !run.SliceQueued)
            {
                await QueueNextAsync(run, version, cancellationToken);
            }

            return run;
        }

        var all = await segments.AllAsync(cancellationToken);
        var segment = all.FirstOrDefault(s => s.Id == run.SegmentId);
        var journey = (await catalog.ActiveAsync(cancellationToken)).FirstOrDefault(j => j.Id == run.JourneyId);
        var now = clock.GetUtcNow();
        if (segment is null || journey is null)
        {
            return await FinishAsync(run with { Status = AudienceRunStatus.Stopped, Problem = null, UpdatedAt = now, CompletedAt = now }, version, cancellationToken);
        }

        var size = SliceSize(run);
        var nextAfter = TimeSpan.Zero;
        if (pacing is not null && FirstChannelOf(journey) is { } channel)
        {
            // Runs on one channel draw their starts from one schedule at the channel's rate, so two runs at once share
            // it rather than each taking all of it. A slice whose turn is not yet near waits for it, starting nobody.
            var interval = IntervalOf(channel);
            var realNow = pacing.RealClock.GetUtcNow();
            var wanted = (int)Math.Clamp(run.Members - run.Done, 1, size);
            var slots = await pacing.Slots.ReserveAsync($"audience-{channel}", interval, wanted, realNow, audience.Span, cancellationToken);
            if (!slots.Granted)
            {
                await queue.EnqueueAudienceSliceAsync(new AudienceSliceMessage(run.Id, run.Slice), slots.FirstSlot - realNow, cancellationToken);
                return run;
            }

            nextAfter = slots.FirstSlot + (interval * wanted) - realNow;
        }

        var batch = new List<CsvRecord>(size);
        long offset, line;
        await using (var file = await files.OpenReadAsync(run.File, run.Offset, cancellationToken))
        {
            var reader = new CsvReader(file, run.Offset, run.Line);
            while (batch.Count < size && await reader.ReadAsync(cancellationToken) is { } record)
            {
                batch.Add(record);
            }

            (offset, line) = (reader.Offset, reader.Line);
        }

        var trigger = new EntryTrigger($"audience:{run.Id}", null, new Dictionary<string, string>
        {
            ["event.type"] = "audience", ["event.segment"] = run.SegmentId, ["event.occurredAt"] = run.RequestedAt.ToString("O", CultureInfo.InvariantCulture),
        });
        var outcomes = new EntryOutcome?[batch.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, batch.Count), new ParallelOptions { MaxDegreeOfParallelism = audience.Parallelism, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                var fields = batch[i].Fields;
                var profile = fields.Count == 2 ? (await profiles.GetAsync(new Customers.CustomerKey(fields[0], fields[1]), ct))?.Value : null;
                outcomes[i] = profile is null ? null : await entry.EnterAsync(runtime, journey, profile, segment.Condition, all, now, trigger, ct);
            });

        var done = batch.Count < size;
        run = run with
        {
            Offset = offset,
            Line = line,
            Slice = run.Slice + 1,
            SliceQueued = false,
            Started = run.Started + outcomes.Count(o => o is EntryOutcome.Started or EntryOutcome.Repeated),
            AlreadyInJourney = run.AlreadyInJourney + outcomes.Count(o => o == EntryOutcome.AlreadyIn),
            NotMatching = run.NotMatching + outcomes.Count(o => o == EntryOutcome.NotMatching),
            Refused = run.Refused + outcomes.Count(o => o == EntryOutcome.Refused),
            Gone = run.Gone + outcomes.Count(o => o is null),
            Status = done ? AudienceRunStatus.Completed : AudienceRunStatus.Running,
            Problem = null,
            UpdatedAt = now,
            CompletedAt = done ? now : null,
        };
        if (done)
        {
            return await FinishAsync(run, version, cancellationToken);
        }

        if (await store.TrySaveAsync(run, version, cancellationToken) is not { } saved)
        {
            return (await store.GetAsync(run.Id, cancellationToken))?.Value; // a copy of this slice got there first: it queues the next
        }

        return await QueueNextAsync(run, saved, cancellationToken, nextAfter);
    }

    /// <summary>
    /// Records that the queue gave up on the run's slice (its retries ran out): it shows stalled, with
    /// <paramref name="problem"/>, until its message is replayed; a run that ended is left as it is.
    /// </summary>
    public Task<AudienceRun?> StallAsync(string runId, string problem, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<AudienceRun?>("audience run stall", async _ =>
        {
            var current = await store.GetAsync(runId, cancellationToken);
            if (current is not { Value.Status: AudienceRunStatus.Running })
            {
                return Attempt.Done(current?.Value);
            }

            var stalled = current.Value with { Status = AudienceRunStatus.Stalled, Problem = problem, UpdatedAt = clock.GetUtcNow() };
            return await store.TrySaveAsync(stalled, current.Version, cancellationToken) is null ? Attempt.Lost : Attempt.Done<AudienceRun?>(stalled);
        }, cancellationToken);

    /// <summary>Members per slice: the slice's span at the pace, at least one.</summary>
    public int SliceSize(AudienceRun run) =>
        (int)Math.Clamp(Math.Ceiling(run.PerMinute / 60 * audience.Span.TotalSeconds), 1, audience.MaxSliceMembers);

    /// <summary>The pace: the journey's first channel's rate (its provider's limits, as its throttle spaces sends), or the lower one asked for.</summary>
    private (double PerMinute, string? Problem) PaceOf(JourneyDefinition journey, double? perMinute)
    {
        if (perMinute is <= 0 or double.NaN)
        {
            return (0, "'perMinute' must be a number above 0.");
        }

        if (FirstChannelOf(journey) is not { } channel)
        {
            return (perMinute ?? audience.NoChannelPerMinute, null);
        }

        var channelPerMinute = Math.Round(60 / IntervalOf(channel).TotalSeconds, 3);
        return perMinute > channelPerMinute
            ? (0, $"'perMinute' may be at most {channelPerMinute.ToString(CultureInfo.InvariantCulture)}, the rate of the journey's first channel ({channel}).")
            : (perMinute ?? channelPerMinute, null);
    }

    /// <summary>The spacing of a channel's sends: its provider's limits, as its throttle spaces them.</summary>
    private TimeSpan IntervalOf(string channel) => RateSchedule.Interval(rates.LimitsOf(channel));

    /// <summary>The channel that sets a run's pace: the journey's first send step's.</summary>
    private static string? FirstChannelOf(JourneyDefinition journey) => journey.Steps.OfType<SendStep>().FirstOrDefault()?.Channel;

    /// <param name="notBefore">How long the slots this slice took on its channel's shared schedule still run.</param>
    private async Task<AudienceRun> QueueNextAsync(AudienceRun run, string version, CancellationToken cancellationToken, TimeSpan notBefore = default)
    {
        var own = TimeSpan.FromSeconds(SliceSize(run) * 60 / run.PerMinute);
        var delay = notBefore > own ? notBefore : own;
        await queue.EnqueueAudienceSliceAsync(new AudienceSliceMessage(run.Id, run.Slice), delay, cancellationToken);
        run = run with { SliceQueued = true };
        // Lost: the next slice has already run (and saved) with the message just queued, whose copy will find it past.
        await store.TrySaveAsync(run, version, cancellationToken);
        return run;
    }

    private async Task<AudienceRun> FinishAsync(AudienceRun run, string version, CancellationToken cancellationToken)
    {
        if (await store.TrySaveAsync(run, version, cancellationToken) is null)
        {
            return (await store.GetAsync(run.Id, cancellationToken))!.Value;
        }

        await files.DeleteAsync(run.File, cancellationToken);
        return run;
    }

    /// <summary>Writes the segment's members now, one <c>platform,customerId</c> line each, through a pipe into the file; returns how many.</summary>
    private async Task<long> SnapshotAsync(string file, Segment segment, IReadOnlyList<Segment> all, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var pipe = new Pipe();
        var members = 0L;
        var writing = Task.Run(async () =>
        {
            try
            {
                var after = -1;
                var text = new StringBuilder();
                while (true)
                {
                    var (page, next) = index.Members(segment, all, at, settings.DefaultTimeZone, after, SnapshotPage);
                    text.Clear();
                    foreach (var member in page)
                    {
                        text.Append(Csv(member.Platform)).Append(',').Append(Csv(member.CustomerId)).Append('\n');
                    }

                    members += page.Count;
                    await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken);
                    if (next is not { } row)
                    {
                        break;
                    }

                    after = row;
                }

                await pipe.Writer.CompleteAsync();
            }
            catch (Exception e)
            {
                await pipe.Writer.CompleteAsync(e);
            }
        }, cancellationToken);
        await using (var content = pipe.Reader.AsStream())
        {
            await files.SaveAsync(file, content, long.MaxValue, cancellationToken);
        }

        await writing;
        return members;
    }

    private static string Csv(string field) =>
        field.AsSpan().IndexOfAny(",\"\r\n") < 0 ? field : $"\"{field.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
}
