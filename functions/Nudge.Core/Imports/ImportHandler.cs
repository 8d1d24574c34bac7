using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Ingest;
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

    /// <summary>A platform import for a shop Nudge cannot read: no such shop configured, or no Admin API credentials for it.</summary>
    public sealed record NotConfigured(string Problem) : ImportAccepted;
}

/// <summary>
/// Imports a shop's existing customers and orders from CSV into the same profiles webhooks fill. A file is stored,
/// then applied in slices: each slice applies batches of rows and saves a checkpoint (byte offset, line, counts) after
/// each, then queues the next slice; a slice interrupted by a crash is taken again from the last checkpoint, and the
/// rows after it, applied a second time, change nothing (each row's fold is idempotent, an order counted once by its
/// id). A bad row is skipped whole and reported by line. Imports fold facts only: they start no journeys, so customers
/// who signed up long ago get no welcome. A platform import reads the shop's Admin API the same way: a page at a time
/// from the platform's cursor, saved with the counts after each page.
/// </summary>
public sealed class ImportHandler(
    IImportStore store, IImportFiles files, IImportQueue queue, ProfileUpdater profiles, PipelineSettings pipeline, ImportSettings settings,
    TimeProvider clock, ShopRegistry? shops = null, IEnumerable<IPlatformImportSource>? platformSources = null)
{
    private readonly Dictionary<string, IPlatformImportSource> _sources = (platformSources ?? []).ToDictionary(s => s.Platform);

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
                state = await ResumeAsync(id, cancellationToken);
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

    /// <summary>
    /// Starts reading a shop's customers or orders from its platform. One platform import per shop and kind is current:
    /// asked again while it runs, the same import answers (a stalled one resumes from its checkpoint); once it has
    /// completed or failed, a new run starts under the same id from the first page (what it reads again folds in unchanged).
    /// </summary>
    public async Task<ImportAccepted> StartPlatformAsync(string kind, string platform, string shopDomain, CancellationToken cancellationToken)
    {
        if (!_sources.ContainsKey(platform) || !PlatformImportRows.IsKnown(platform))
        {
            return new ImportAccepted.NotConfigured($"'{platform}' has no Admin API to import from: use shopify, woocommerce or cafe24, or upload a CSV file.");
        }

        if (shops?.Find(platform, shopDomain) is not { CanReconcile: true })
        {
            return new ImportAccepted.NotConfigured($"No {platform} shop '{shopDomain}' with Admin API credentials is configured (Shops__N__AdminApiUrl and its token).");
        }

        var id = IdOf(kind, platform, shopDomain, ImportSources.Platform);
        var fresh = new ImportState
        {
            Id = id, Kind = kind, Platform = platform, ShopDomain = shopDomain, Source = ImportSources.Platform, File = "", Bytes = 0, Columns = [],
            UploadedAt = clock.GetUtcNow(),
        };
        var (state, isNew) = await OptimisticConcurrency.RetryAsync<(ImportState, bool)>("platform import start", async _ =>
        {
            var existing = await store.GetAsync(id, cancellationToken);
            if (existing is { Value.Status: ImportStatus.Queued or ImportStatus.Running or ImportStatus.Stalled })
            {
                return Attempt.Done((existing.Value, false));
            }

            return await store.TrySaveAsync(fresh, existing?.Version, cancellationToken) is null ? Attempt.Lost : Attempt.Done((fresh, true));
        }, cancellationToken);
        if (state.Status == ImportStatus.Stalled)
        {
            state = await ResumeAsync(id, cancellationToken);
        }

        // Queued again for an import already running: a slice that finds it moved on just stops.
        await queue.EnqueueImportAsync(new ImportWorkMessage(id), cancellationToken);
        return new ImportAccepted.Started(state, isNew);
    }

    /// <summary>The import as it stands, queued again if it had stalled (started again, it resumes from its checkpoint).</summary>
    private Task<ImportState> ResumeAsync(string id, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<ImportState>("import resume", async _ =>
        {
            var existing = (await store.GetAsync(id, cancellationToken))!;
            if (existing.Value.Status != ImportStatus.Stalled)
            {
                return Attempt.Done(existing.Value);
            }

            var requeued = existing.Value with { Status = ImportStatus.Queued, Problem = null, UpdatedAt = clock.GetUtcNow() };
            return await store.TrySaveAsync(requeued, existing.Version, cancellationToken) is null ? Attempt.Lost : Attempt.Done(requeued);
        }, cancellationToken);

    /// <summary>
    /// Records that the queue gave up on the import's slice (its retries ran out): it shows stalled, with
    /// <paramref name="problem"/>, until it is started again or its message is replayed, and then resumes from its
    /// checkpoint. An import that ended, or that another attempt moved on, is left as it is.
    /// </summary>
    public Task<ImportState?> StallAsync(string importId, string problem, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<ImportState?>("import stall", async _ =>
        {
            var current = await store.GetAsync(importId, cancellationToken);
            if (current is not { Value.Status: ImportStatus.Queued or ImportStatus.Running })
            {
                return Attempt.Done(current?.Value);
            }

            var stalled = current.Value with { Status = ImportStatus.Stalled, Problem = problem, UpdatedAt = clock.GetUtcNow() };
            return await store.TrySaveAsync(stalled, current.Version, cancellationToken) is null ? Attempt.Lost : Attempt.Done<ImportState?>(stalled);
        }, cancellationToken);

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

        if (current.Value.Status == ImportStatus.Failed)
        {
            return current.Value;
        }

        if (current.Value.Source == ImportSources.Platform)
        {
            return await RunPlatformSliceAsync(current.Value, current.Version, cancellationToken);
        }

        var (state, version) = (current.Value, current.Version);
        var (header, _) = ImportHeader.Parse(state.Kind, state.Columns);
        var started = clock.GetUtcNow();
        state = state with { Status = ImportStatus.Running, Problem = null, StartedAt = state.StartedAt ?? started };
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

            var rows = batch.Select(record => record.Error is { } unreadable ? new PreparedRow(record.Line, null, null, unreadable) : Prepare(state, header!, record)).ToList();
            var (applied, errors) = await ApplyAsync(state, rows, cancellationToken);
            var done = batch.Count < settings.RowsPerCheckpoint;
            var now = clock.GetUtcNow();
            state = state.After(applied, errors, done, now) with { Offset = reader.Offset, Line = reader.Line };
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
    private async Task<(long Applied, List<ImportRowError> Errors)> ApplyAsync(ImportState import, List<PreparedRow> batch, CancellationToken cancellationToken)
    {
        var errors = new List<ImportRowError>();
        var byCustomer = new Dictionary<CustomerKey, List<Func<CustomerProfile?, CustomerProfile>>>();
        var applied = 0L;
        foreach (var (line, key, fold, problem) in batch)
        {
            if (problem is not null)
            {
                errors.Add(new ImportRowError(line, problem));
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

    /// <summary>A row ready to apply: its line (or record number), the customer it is about and its fold, or why it is skipped.</summary>
    private sealed record PreparedRow(long Line, CustomerKey? Key, Func<CustomerProfile?, CustomerProfile>? Fold, string? Problem);

    /// <summary>A CSV row read by the header's columns.</summary>
    private PreparedRow Prepare(ImportState import, ImportHeader header, CsvRecord record)
    {
        if (import.Kind == ImportKinds.Customers)
        {
            var (customer, problem) = header.ParseCustomer(record.Fields, pipeline.DefaultTimeZone);
            return customer is null ? new PreparedRow(record.Line, null, null, problem) : CustomerRow(import, record.Line, customer, import.UploadedAt);
        }

        var (row, orderProblem) = header.ParseOrder(record.Fields, pipeline.DefaultTimeZone);
        return row is null ? new PreparedRow(record.Line, null, null, orderProblem)
            : OrderRow(import, record.Line, row, $"import:{import.Id}:{record.Line.ToString(CultureInfo.InvariantCulture)}");
    }

    /// <summary>A platform record read through the platform's mapping; its facts are as of the record's own update time.</summary>
    private static PreparedRow Prepare(ImportState import, long number, ReadOnlyMemory<byte> record)
    {
        if (import.Kind == ImportKinds.Customers)
        {
            var (customer, asOf, problem) = PlatformImportRows.Customer(import.Platform, import.ShopDomain, record);
            return customer is null ? new PreparedRow(number, null, null, problem) : CustomerRow(import, number, customer, asOf);
        }

        var (order, orderProblem) = PlatformImportRows.Order(import.Platform, import.ShopDomain, record);
        return order is null ? new PreparedRow(number, null, null, orderProblem) : OrderRow(import, number, order, $"import:{import.Id}:order:{order.OrderId}");
    }

    private static PreparedRow CustomerRow(ImportState import, long line, ImportedCustomer customer, DateTimeOffset asOf)
    {
        var key = new CustomerKey(import.Platform, customer.CustomerId);
        return new PreparedRow(line, key, p => ProfileUpdates.ApplyImported(p, key, import.ShopDomain, customer, asOf), null);
    }

    /// <summary>An order is an event that happened: folded as one (counted once by its order id), under <paramref name="eventId"/>.</summary>
    private static PreparedRow OrderRow(ImportState import, long line, ImportedOrder row, string eventId)
    {
        var buyer = new CustomerKey(import.Platform, row.CustomerId);
        var order = new CustomerEvent
        {
            EventId = eventId,
            Customer = buyer,
            Type = EventTypes.OrderPlaced,
            OccurredAt = row.CreatedAt,
            ShopDomain = import.ShopDomain,
            SubjectId = row.OrderId,
            Value = row.Total is { } total ? new Money(total, row.Currency!) : null,
        };
        return new PreparedRow(line, buyer, p => ProfileUpdates.Apply(p, order), null);
    }

    /// <summary>
    /// Applies a platform import's next pages for up to the slice budget, saving the platform's cursor with the counts
    /// after each page; a refusal for good fails the import with its reason, anything else is left to the queue's retry.
    /// </summary>
    private async Task<ImportState?> RunPlatformSliceAsync(ImportState state, string version, CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        state = state with { Status = ImportStatus.Running, Problem = null, StartedAt = state.StartedAt ?? started };
        var shop = shops?.Find(state.Platform, state.ShopDomain);
        while (true)
        {
            PlatformImportPage? page = null;
            string? problem = null;
            try
            {
                page = shop is { CanReconcile: true } && _sources.TryGetValue(state.Platform, out var source)
                    ? await source.ReadAsync(shop, state.Kind, state.Cursor, cancellationToken)
                    : throw new PlatformImportException($"the {state.Platform} shop is no longer configured with Admin API credentials");
            }
            catch (PlatformImportException e)
            {
                problem = e.Message;
            }

            var now = clock.GetUtcNow();
            if (page is null)
            {
                state = state with { Status = ImportStatus.Failed, Problem = problem, UpdatedAt = now, CompletedAt = now };
            }
            else
            {
                var rows = page.Records.Select((record, i) => Prepare(state, state.RecordsRead + i + 1, record)).ToList();
                var (applied, errors) = await ApplyAsync(state, rows, cancellationToken);
                state = state.After(applied, errors, page.Next is null, now) with
                {
                    Cursor = page.Next,
                    RecordsRead = state.RecordsRead + page.Records.Count,
                    RecordsExpected = page.Expected ?? state.RecordsExpected,
                };
            }

            if (await store.TrySaveAsync(state, version, cancellationToken) is not { } saved)
            {
                return (await store.GetAsync(state.Id, cancellationToken))?.Value; // another worker has moved it on: leave it that one
            }

            version = saved;
            if (state.Status != ImportStatus.Running)
            {
                return state;
            }

            if (now - started >= settings.Slice)
            {
                await queue.EnqueueImportAsync(new ImportWorkMessage(state.Id), cancellationToken);
                return state;
            }
        }
    }
}
