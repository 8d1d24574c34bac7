namespace Nudge.Core.Imports;

public static class ImportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";

    /// <summary>A platform import the platform refused for good (credentials revoked, the shop unknown to it): see <see cref="ImportState.Problem"/>.</summary>
    public const string Failed = "failed";

    /// <summary>
    /// The queue gave up on a slice (its retries ran out: the platform or storage kept failing): see
    /// <see cref="ImportState.Problem"/>. Started again, or its message replayed, it resumes from its checkpoint.
    /// </summary>
    public const string Stalled = "stalled";
}

/// <summary>Where an import's rows come from (wire names, never renamed).</summary>
public static class ImportSources
{
    /// <summary>An uploaded CSV file.</summary>
    public const string Csv = "csv";

    /// <summary>The shop's platform, read through its Admin API.</summary>
    public const string Platform = "platform";
}

/// <summary>A bad row: its line in the file (the header is line 1), or for a platform import the record's number in the platform's listing, and what is wrong, never its content.</summary>
public sealed record ImportRowError(long Line, string Problem);

/// <summary>
/// One import and how far it got: the checkpoint (<see cref="Offset"/>, <see cref="Line"/>) and the counts are saved
/// together after each batch of rows is applied, so a restarted import continues from there and counts each row once.
/// </summary>
public sealed record ImportState
{
    /// <summary>How many bad rows are kept with their line numbers (all are counted in <see cref="Skipped"/>).</summary>
    public const int MaxErrorsKept = 100;

    public required string Id { get; init; }
    public required string Kind { get; init; }
    public required string Platform { get; init; }
    public required string ShopDomain { get; init; }

    /// <summary><see cref="ImportSources.Csv"/> (an uploaded file: <see cref="File"/>, <see cref="Offset"/>) or <see cref="ImportSources.Platform"/> (<see cref="Cursor"/>).</summary>
    public string Source { get; init; } = ImportSources.Csv;

    /// <summary>Where the uploaded file is kept (empty for a platform import).</summary>
    public required string File { get; init; }

    public required long Bytes { get; init; }

    /// <summary>The header's column names, as read when the file was accepted.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>When the file was uploaded: the facts of its rows are as of then (newest wins against webhooks).</summary>
    public required DateTimeOffset UploadedAt { get; init; }

    public string Status { get; init; } = ImportStatus.Queued;
    public long Offset { get; init; }
    public long Line { get; init; } = 1;
    public long Applied { get; init; }
    public long Skipped { get; init; }
    public IReadOnlyList<ImportRowError> Errors { get; init; } = [];
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? UpdatedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }

    /// <summary>
    /// A platform import's checkpoint: where the platform's listing goes on (the source's own cursor, saved with the
    /// counts after each page is applied); null before the first page.
    /// </summary>
    public string? Cursor { get; init; }

    /// <summary>A platform import: the records read so far, and how many the platform says there are (null while it has not said).</summary>
    public long RecordsRead { get; init; }

    public long? RecordsExpected { get; init; }

    /// <summary>The state after a batch is applied: its counts added (the first bad rows kept) and, if it was the last, completed.</summary>
    public ImportState After(long applied, IReadOnlyList<ImportRowError> errors, bool done, DateTimeOffset now) => this with
    {
        Applied = Applied + applied,
        Skipped = Skipped + errors.Count,
        Errors = [.. Errors, .. errors.Take(MaxErrorsKept - Errors.Count)],
        UpdatedAt = now,
        Status = done ? ImportStatus.Completed : ImportStatus.Running,
        CompletedAt = done ? now : null,
    };

    /// <summary>Why a <see cref="ImportStatus.Failed"/> or <see cref="ImportStatus.Stalled"/> import stopped (a status and a reason: never a credential or a customer's data).</summary>
    public string? Problem { get; init; }
}

/// <summary>What <c>GET /api/imports/{id}</c> answers: the state and, while it runs, the share done and an estimate of the time left.</summary>
/// <param name="RecordsRead">Platform imports: records read from the platform; <paramref name="RecordsExpected"/> how many it says there are.</param>
public sealed record ImportProgress(
    string Id, string Kind, string Status, long Bytes, long BytesRead, double Percent, long RowsApplied, long RowsSkipped,
    IReadOnlyList<ImportRowError> Errors, DateTimeOffset UploadedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, double? EtaSeconds, double? RowsPerSecond,
    string Source = ImportSources.Csv, string? Platform = null, long RecordsRead = 0, long? RecordsExpected = null, string? Problem = null)
{
    /// <summary>
    /// The estimate assumes the rest goes at the pace so far: a file's bytes per second since the start, a platform's
    /// records per second against the count it reported (no estimate while it has not reported one).
    /// </summary>
    public static ImportProgress Of(ImportState state, DateTimeOffset now)
    {
        var (done, total) = state.Source == ImportSources.Platform ? (state.RecordsRead, state.RecordsExpected ?? 0) : (state.Offset, state.Bytes);
        var completed = state.Status == ImportStatus.Completed;
        var percent = completed || (total == 0 && state.Source == ImportSources.Csv) ? 100
            : total == 0 ? 0
            : Math.Min(99.9, Math.Round(100.0 * done / total, 1)); // a platform's count is an estimate: 100 only when the listing ended
        double? eta = null, rate = null;
        if (state.StartedAt is { } started && (state.CompletedAt ?? now) - started is { TotalSeconds: > 0 } elapsed)
        {
            rate = Math.Round((state.Applied + state.Skipped) / elapsed.TotalSeconds, 1);
            if (state.Status is ImportStatus.Queued or ImportStatus.Running && done > 0 && total > 0)
            {
                eta = Math.Round(Math.Max(0, total - done) / (done / elapsed.TotalSeconds), 1);
            }
        }

        return new ImportProgress(state.Id, state.Kind, state.Status, state.Bytes, state.Offset, percent, state.Applied, state.Skipped, state.Errors,
            state.UploadedAt, state.StartedAt, state.CompletedAt, completed ? 0 : eta, rate,
            state.Source, state.Platform, state.RecordsRead, state.RecordsExpected, state.Problem);
    }
}
