using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Imports;

/// <summary>How imports run: the upload bound, rows per checkpoint, the time one invocation works before handing on, and parallel writes.</summary>
public sealed record ImportSettings(long MaxUploadBytes, int RowsPerCheckpoint = 500, TimeSpan? SliceBudget = null, int Parallelism = 16)
{
    /// <summary>100 MiB, the Functions host's default bound on a request: about a million customer rows of 100 bytes. Larger exports are split and uploaded as several imports.</summary>
    public const long DefaultMaxUploadBytes = 100L * 1024 * 1024;

    public TimeSpan Slice => SliceBudget ?? TimeSpan.FromSeconds(30);
}

public abstract record ImportAccepted
{
    public sealed record Started(ImportState State, bool New) : ImportAccepted;

    public sealed record TooLarge(long MaxBytes) : ImportAccepted;

    public sealed record BadFile(string Problem) : ImportAccepted;
}

/// <summary>
/// Imports a shop's existing customers and orders from CSV into the same profiles webhooks fill. A file is stored,
/// then applied in slices: each slice applies batches of rows and saves a checkpoint (byte offset, line, counts) after
/// each, then queues the next slice; a slice interrupted by a crash is taken again from the last checkpoint, and the
/// rows after it, applied a second time, change nothing (each row's fold is idempotent, an order counted once by its
/// id). A bad row is skipped whole and reported by line. Imports fold facts only: they start no journeys, so customers
/// who signed up long ago get no welcome.
/// </summary>
public sealed class ImportHandler(
    IImportStore store, IImportFiles files, IImportQueue queue, ProfileUpdater profiles, PipelineSettings pipeline, ImportSettings settings,
    TimeProvider clock)
{
    /// <summary>Stores an upload and queues its import; the same file for the same shop and kind is the same import (a retried upload starts nothing new).</summary>
    public async Task<ImportAccepted> StartAsync(string kind, string platform, string shopDomain, Stream content, CancellationToken cancellationToken)
    {
        var upload = $"uploads/{Guid.NewGuid():N}.csv";
        var stored = await files.SaveAsync(upload, content, settings.MaxUploadBytes, cancellationToken);
        if (stored is null)
        {
            return new ImportAccepted.TooLarge(settings.MaxUploadBytes);
        }

        await using (var file = await files.OpenReadAsync(upload, 0, cancellationToken))
        {
            var first = await new CsvReader(file).ReadAsync(cancellationToken);
            var (header, problem) = first is null ? (null, "the file is empty: send a header row and rows")
                : first.Error is { } error ? (null, $"the header row: {error}")
                : ImportHeader.Parse(kind, first.Fields);
            if (header is null)
            {
                await files.DeleteAsync(upload, cancellationToken);
                return new ImportAccepted.BadFile(problem!);
            }

            var id = IdOf(kind, platform, shopDomain, stored.Sha256);
            var state = new ImportState
            {
                Id = id, Kind = kind, Platform = platform, ShopDomain = shopDomain, File = upload, Bytes = stored.Bytes,
                Columns = first!.Fields.Select(f => f.Trim().ToLowerInvariant()).ToList(), UploadedAt = clock.GetUtcNow(),
            };
            if (await store.TrySaveAsync(state, null, cancellationToken) is null)
            {
                await files.DeleteAsync(upload, cancellationToken);
                var existing = await store.GetAsync(id, cancellationToken);
                state = existing!.Value;
                if (state.Status == ImportStatus.Completed)
                {
                    return new ImportAccepted.Started(state, New: false);
                }
            }

            // Queued again for an import already known: a slice that finds it running further just stops.
            await queue.EnqueueImportAsync(new ImportWorkMessage(id), cancellationToken);
            return new ImportAccepted.Started(state, New: state.File == upload);
        }
    }

    /// <summary>Import ids: the kind and a hash of the shop and the file's content.</summary>
    public static string IdOf(string kind, string platform, string shopDomain, string sha256)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{kind}\n{platform}\n{shopDomain}\n{sha256}"));
        return $"{kind}-{Convert.ToHexStringLower(hash)[..24]}";
    }

    public static bool IsImportId(string? id) =>
        id is { Length: > 0 and <= 40 } && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');

    public async Task<ImportProgress?> ProgressAsync(string importId, CancellationToken cancellationToken) =>
        await store.GetAsync(importId, cancellationToken) is { } state ? ProgressOf(state.Value) : null;

    public ImportProgress ProgressOf(ImportState state) => ImportProgress.Of(state, clock.GetUtcNow());

    /// <summary>
    /// Applies the import's next rows for up to the slice budget, checkpointing after each batch, and queues the next
    /// slice if rows remain. Returns the state reached (null for an unknown import).
    /// </summary>
    public async Task<ImportState?> RunSliceAsync(string importId, CancellationToken cancellationToken)
    {
        var current = await store.GetAsync(importId, cancellationToken);
        if (current is null || current.Value.Status == ImportStatus.Completed)
        {
            return current?.Value;
        }

        var (state, version) = (current.Value, current.Version);
        var (header, _) = ImportHeader.Parse(state.Kind, state.Columns);
        var started = clock.GetUtcNow();
        state = state with { Status = ImportStatus.Running, StartedAt = state.StartedAt ?? started };
        await using var file = await files.OpenReadAsync(state.File, state.Offset, cancellationToken);
        var reader = new CsvReader(file, state.Offset, state.Line);
        if (state.Offset == 0)
        {
            await reader.ReadAsync(cancellationToken); // the header, read when the file was accepted
        }

        while (true)
        {
            var batch = new List<CsvRecord>(settings.RowsPerCheckpoint);
            while (batch.Count < settings.RowsPerCheckpoint && await reader.ReadAsync(cancellationToken) is { } record)
            {
                batch.Add(record);
            }

            var (applied, errors) = await ApplyAsync(state, header!, batch, cancellationToken);
            var done = batch.Count < settings.RowsPerCheckpoint;
            var now = clock.GetUtcNow();
            state = state with
            {
                Offset = reader.Offset,
                Line = reader.Line,
                Applied = state.Applied + applied,
                Skipped = state.Skipped + errors.Count,
                Errors = [.. state.Errors, .. errors.Take(ImportState.MaxErrorsKept - state.Errors.Count)],
                UpdatedAt = now,
                Status = done ? ImportStatus.Completed : ImportStatus.Running,
                CompletedAt = done ? now : null,
            };
            if (await store.TrySaveAsync(state, version, cancellationToken) is not { } saved)
            {
                return (await store.GetAsync(importId, cancellationToken))?.Value; // another worker has moved it on: leave it that one
            }

            version = saved;
            if (done)
            {
                await files.DeleteAsync(state.File, cancellationToken);
                return state;
            }

            if (now - started >= settings.Slice)
            {
                await queue.EnqueueImportAsync(new ImportWorkMessage(importId), cancellationToken);
                return state;
            }
        }
    }

    /// <summary>
    /// Applies a batch's good rows: the rows of one customer fold together into one write, customers in parallel.
    /// Returns how many rows were applied and the bad ones.
    /// </summary>
    private async Task<(long Applied, List<ImportRowError> Errors)> ApplyAsync(ImportState import, ImportHeader header, List<CsvRecord> batch, CancellationToken cancellationToken)
    {
        var errors = new List<ImportRowError>();
        var byCustomer = new Dictionary<CustomerKey, List<Func<CustomerProfile?, CustomerProfile>>>();
        var applied = 0L;
        foreach (var record in batch)
        {
            var (key, fold, problem) = record.Error is { } unreadable ? (null, null, unreadable) : Prepare(import, header, record);
            if (problem is not null)
            {
                errors.Add(new ImportRowError(record.Line, problem));
                continue;
            }

            if (!byCustomer.TryGetValue(key!.Value, out var folds))
            {
                byCustomer[key.Value] = folds = [];
            }

            folds.Add(fold!);
            applied++;
        }

        // Most imported customers are new to Nudge: a customers import tries the insert before any read.
        var insertFirst = import.Kind == ImportKinds.Customers;
        await Parallel.ForEachAsync(byCustomer, new ParallelOptions { MaxDegreeOfParallelism = settings.Parallelism, CancellationToken = cancellationToken },
            async (customer, ct) =>
            {
                await profiles.FoldAsync(customer.Key, p => customer.Value.Aggregate(p, (profile, fold) => fold(profile))!, ct, insertFirst,
                    new ConsentSource($"{import.Platform} import {import.Id}", import.UploadedAt));
            });
        return (applied, errors);
    }

    /// <summary>The customer a row is about and its fold, or why the row is skipped.</summary>
    private (CustomerKey? Key, Func<CustomerProfile?, CustomerProfile>? Fold, string? Problem) Prepare(ImportState import, ImportHeader header, CsvRecord record)
    {
        if (import.Kind == ImportKinds.Customers)
        {
            var (customer, problem) = header.ParseCustomer(record.Fields, pipeline.DefaultTimeZone);
            if (customer is null)
            {
                return (null, null, problem);
            }

            var key = new CustomerKey(import.Platform, customer.CustomerId);
            return (key, p => ProfileUpdates.ApplyImported(p, key, import.ShopDomain, customer, import.UploadedAt), null);
        }

        var (row, orderProblem) = header.ParseOrder(record.Fields, pipeline.DefaultTimeZone);
        if (row is null)
        {
            return (null, null, orderProblem);
        }

        var buyer = new CustomerKey(import.Platform, row.CustomerId);
        // An order is an event that happened: folded as one, under an id of its import and line.
        var order = new CustomerEvent
        {
            EventId = $"import:{import.Id}:{record.Line.ToString(CultureInfo.InvariantCulture)}",
            Customer = buyer,
            Type = EventTypes.OrderPlaced,
            OccurredAt = row.CreatedAt,
            ShopDomain = import.ShopDomain,
            SubjectId = row.OrderId,
            Value = row.Total is { } total ? new Money(total, row.Currency!) : null,
        };
        return (buyer, p => ProfileUpdates.Apply(p, order), null);
    }
}
