using Nudge.Core.Pipeline;

namespace Nudge.Core.Segments;

public static class AudienceRunStatus
{
    public const string Running = "running";
    public const string Completed = "completed";

    /// <summary>The journey was paused or archived, or the segment deleted, while the run went on: the rest is not started.</summary>
    public const string Stopped = "stopped";

    /// <summary>
    /// The queue gave up on a slice (its retries ran out): see <see cref="AudienceRun.Problem"/>. Replaying the
    /// audience-slices queue resumes it from its checkpoint.
    /// </summary>
    public const string Stalled = "stalled";
}

/// <summary>
/// A journey started for a segment's members: the member ids as of the request (a snapshot file, one
/// <c>platform,customerId</c> line each) and how far the run got. The checkpoint (<see cref="Offset"/>, <see cref="Line"/>)
/// and the counts are saved together after each slice; <see cref="Slice"/> numbers the slices, so a slice's message
/// delivered twice runs once, and <see cref="SliceQueued"/> says the next slice's message is on the queue.
/// </summary>
public sealed record AudienceRun
{
    public required string Id { get; init; }
    public required string JourneyId { get; init; }
    public required string SegmentId { get; init; }

    /// <summary>Where the snapshot of the member ids is kept.</summary>
    public required string File { get; init; }

    public required long Members { get; init; }

    /// <summary>Starts per minute: the journey's first channel's rate, or the lower pace asked for.</summary>
    public required double PerMinute { get; init; }

    public required DateTimeOffset RequestedAt { get; init; }

    public string Status { get; init; } = AudienceRunStatus.Running;
    public long Offset { get; init; }
    public long Line { get; init; } = 1;
    public int Slice { get; init; }
    public bool SliceQueued { get; init; }
    public long Started { get; init; }
    public long AlreadyInJourney { get; init; }
    public long NotMatching { get; init; }
    public long Refused { get; init; }

    /// <summary>Members erased since the snapshot.</summary>
    public long Gone { get; init; }

    public DateTimeOffset? UpdatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>Why a <see cref="AudienceRunStatus.Stalled"/> run stopped (the failure's kind, never a customer's data).</summary>
    public string? Problem { get; init; }

    public long Done => Started + AlreadyInJourney + NotMatching + Refused + Gone;
}

/// <summary>Members not started, by why.</summary>
public sealed record AudienceSkips(long AlreadyInJourney, long NotMatching, long Refused, long Gone);

/// <summary>What <c>GET /api/journeys/{journeyId}/audiences/{runId}</c> answers.</summary>
public sealed record AudienceRunProgress(
    string Id, string Journey, string Segment, string Status, long Members, long Started, AudienceSkips Skipped, long Remaining, double PerMinute,
    double EtaSeconds, DateTimeOffset RequestedAt, DateTimeOffset? CompletedAt, string? Problem = null)
{
    /// <summary>The estimate is the members left at the run's pace (none while it is stalled).</summary>
    public static AudienceRunProgress Of(AudienceRun run)
    {
        var remaining = run.Status is AudienceRunStatus.Running or AudienceRunStatus.Stalled ? Math.Max(0, run.Members - run.Done) : 0;
        var eta = run.Status == AudienceRunStatus.Running ? Math.Round(remaining * 60 / run.PerMinute, 1) : 0;
        return new AudienceRunProgress(run.Id, run.JourneyId, run.SegmentId, run.Status, run.Members, run.Started,
            new AudienceSkips(run.AlreadyInJourney, run.NotMatching, run.Refused, run.Gone), remaining, run.PerMinute,
            eta, run.RequestedAt, run.CompletedAt, run.Problem);
    }
}

public interface IAudienceRunStore
{
    Task<Versioned<AudienceRun>?> GetAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Writes if the stored version is still <paramref name="expectedVersion"/> (null: must not exist yet); the new version, or null on a lost race.</summary>
    Task<string?> TrySaveAsync(AudienceRun run, string? expectedVersion, CancellationToken cancellationToken);
}

/// <summary>Slices of audience runs, each due after the pace's delay (real time: providers' limits are).</summary>
public interface IAudienceQueue
{
    Task EnqueueAudienceSliceAsync(AudienceSliceMessage message, TimeSpan realDelay, CancellationToken cancellationToken);
}

/// <summary>Queue message shape (a wire contract): the run and the number of the slice it is for.</summary>
public sealed record AudienceSliceMessage(string RunId, int Slice);
