namespace Nudge.Core.Imports;

public static class ImportStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
}

/// <summary>A bad row: its line in the file (the header is line 1) and what is wrong, never its content.</summary>
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

    /// <summary>Where the uploaded file is kept.</summary>
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
}

/// <summary>What <c>GET /api/imports/{id}</c> answers: the state and, while it runs, the share done and an estimate of the time left.</summary>
public sealed record ImportProgress(
    string Id, string Kind, string Status, long Bytes, long BytesRead, double Percent, long RowsApplied, long RowsSkipped,
    IReadOnlyList<ImportRowError> Errors, DateTimeOffset UploadedAt, DateTimeOffset? StartedAt, DateTimeOffset? CompletedAt, double? EtaSeconds, double? RowsPerSecond)
{
    /// <summary>The estimate assumes the rest of the file goes at the pace so far (bytes per second since the start).</summary>
    public static ImportProgress Of(ImportState state, DateTimeOffset now)
    {
        var percent = state.Bytes == 0 ? 100 : Math.Round(100.0 * state.Offset / state.Bytes, 1);
        double? eta = null, rate = null;
        if (state.StartedAt is { } started && (state.CompletedAt ?? now) - started is { TotalSeconds: > 0 } elapsed)
        {
            rate = Math.Round((state.Applied + state.Skipped) / elapsed.TotalSeconds, 1);
            if (state.Status != ImportStatus.Completed && state.Offset > 0)
            {
                eta = Math.Round((state.Bytes - state.Offset) / (state.Offset / elapsed.TotalSeconds), 1);
            }
        }

        return new ImportProgress(state.Id, state.Kind, state.Status, state.Bytes, state.Offset, percent, state.Applied, state.Skipped, state.Errors,
            state.UploadedAt, state.StartedAt, state.CompletedAt, state.Status == ImportStatus.Completed ? 0 : eta, rate);
    }
}
