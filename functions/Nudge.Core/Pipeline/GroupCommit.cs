using System.Diagnostics;
using System.Text.Json;
using Nudge.Core.Events;

namespace Nudge.Core.Pipeline;

/// <summary>The intake could not make a delivery durable; nothing was acknowledged, so the source should retry.</summary>
public sealed class IntakeUnavailableException(Exception inner) : Exception("The intake write failed; the delivery was not accepted.", inner);

/// <summary>
/// Webhook intake by group commit: deliveries accepted by concurrent requests are made durable together, in one
/// <see cref="IngestBatchMessage"/> per write, and each request returns only after the write that holds it succeeded
/// (a failed write fails every request in it with <see cref="IntakeUnavailableException"/>). There is no timer: while
/// <see cref="MaxWritesInFlight"/> writes are under way, new deliveries wait and go out together in the next one, so
/// batches grow with the load and a lone request is written at once.
/// Deduplication by event id happens twice: here, against the deliveries this process committed lately (a
/// re-delivery costs no storage at all), and durably when <see cref="IngestBatchHandler"/> claims the event rows.
/// </summary>
public sealed class GroupCommit(IIntakeQueue intake, IngestHandler ingest, TimeProvider clock)
{
    /// <summary>
    /// Concurrent intake writes. One: the next batch gathers while the write is under way, so batches are as large as
    /// the load makes them (measured against two: 6% more acknowledgements per second and a quarter less storage CPU
    /// per request, p99 no worse; see docs/benchmarks.md).
    /// </summary>
    public const int MaxWritesInFlight = 1;

    /// <summary>Deliveries per write at most: one batch stays a unit that one handler run finishes in moments.</summary>
    public const int MaxEntriesPerWrite = 100;

    /// <summary>Event ids remembered per generation; two generations are kept, so between this and twice this many.</summary>
    public const int RecentIdsPerGeneration = 50_000;

    private readonly Lock _gate = new();
    private readonly List<Pending> _pending = [];
    private Dictionary<string, Task> _recent = new(StringComparer.Ordinal);
    private Dictionary<string, Task> _older = new(StringComparer.Ordinal);
    private int _writers;

    /// <summary>
    /// Returns once the delivery is durable (<see cref="IngestOutcome.Accepted"/>), or once the earlier delivery of the
    /// same event this process committed is (<see cref="IngestOutcome.Duplicate"/>).
    /// </summary>
    public async Task<IngestOutcome> AcceptAsync(CustomerEvent evt, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        var traceParent = PipelineTracing.CurrentTraceParent();
        var json = JsonSerializer.Serialize(new IntakeEntry(deliveryId, evt, rawBody.ToArray(), traceParent), NudgeJson.Options);
        if (json.Length > IngestBatchMessage.MaxEntryChars)
        {
            return await ingest.AcceptAsync(evt, deliveryId, rawBody, cancellationToken); // too large for a batch: the direct path
        }

        Task? earlier;
        lock (_gate)
        {
            earlier = _recent.GetValueOrDefault(evt.EventId) ?? _older.GetValueOrDefault(evt.EventId);
        }

        if (earlier is not null)
        {
            await earlier.WaitAsync(cancellationToken); // a failed earlier write fails this one too: the source retries both
            return IngestOutcome.Duplicate;
        }

        // Order and product-interest lookups must find what was just acknowledged, before the batch is processed.
        await ingest.RememberIndexesAsync(evt, cancellationToken);

        var pending = new Pending(evt.EventId, json, traceParent, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        var lead = false;
        lock (_gate)
        {
            if ((_recent.GetValueOrDefault(evt.EventId) ?? _older.GetValueOrDefault(evt.EventId)) is { } raced)
            {
                earlier = raced;
            }
            else
            {
                Remember(evt.EventId, pending.Durable.Task);
                _pending.Add(pending);
                if (_writers < MaxWritesInFlight)
                {
                    _writers++;
                    lead = true;
                }
            }
        }

        if (earlier is not null)
        {
            await earlier.WaitAsync(cancellationToken);
            return IngestOutcome.Duplicate;
        }

        if (lead)
        {
            _ = Task.Run(WriteWhilePendingAsync, CancellationToken.None);
        }

        // Not cancellable: once queued, the delivery may be written; the answer must say what happened.
        await pending.Durable.Task;
        return IngestOutcome.Accepted;
    }

    /// <summary>
    /// Many deliveries of one caller (an events batch, a price drop's fan-out) at once, with a write's worth in flight
    /// at a time: enough to fill each intake write, and a bound on the index writes made before queueing. Outcomes in
    /// the order given; a failed write throws <see cref="IntakeUnavailableException"/> (the caller's retry is safe:
    /// the event ids dedupe what was stored).
    /// </summary>
    public async Task<IngestOutcome[]> AcceptAllAsync(IReadOnlyList<IntakeDelivery> deliveries, CancellationToken cancellationToken)
    {
        using var inFlight = new SemaphoreSlim(MaxEntriesPerWrite);
        return await Task.WhenAll(deliveries.Select(async delivery =>
        {
            await inFlight.WaitAsync(cancellationToken);
            try
            {
                return await AcceptAsync(delivery.Event, delivery.DeliveryId, delivery.RawBody, cancellationToken);
            }
            finally
            {
                inFlight.Release();
            }
        }));
    }

    private async Task WriteWhilePendingAsync()
    {
        // The writer serves every request that waits while it runs, not the one that started it: its writes belong to
        // the traces of the deliveries each holds (WriteAsync), not to that request's.
        Activity.Current = null;
        while (true)
        {
            List<Pending> batch;
            lock (_gate)
            {
                batch = TakeBatch();
                if (batch.Count == 0)
                {
                    _writers--;
                    return;
                }
            }

            await WriteAsync(batch);
        }
    }

    /// <summary>Writes the batch in one message, or, if it does not compress into one, in halves.</summary>
    private async Task WriteAsync(List<Pending> batch)
    {
        var batchId = $"{clock.GetUtcNow():yyyyMMdd'T'HHmmssfff}-{Guid.NewGuid():N}";
        var message = IngestBatchMessage.Compose(batchId, batch.ConvertAll(p => p.Json));
        if (message is null)
        {
            var half = batch.Count / 2; // a single entry always fits (MaxEntryChars)
            await WriteAsync(batch.GetRange(0, half));
            await WriteAsync(batch.GetRange(half, batch.Count - half));
            return;
        }

        using var send = PipelineTracing.StartContinuing("intake write", ActivityKind.Producer, batch.ConvertAll(p => p.TraceParent));
        try
        {
            await intake.AppendAsync(message, CancellationToken.None);
            batch.ForEach(p => p.Durable.TrySetResult());
        }
        catch (Exception e)
        {
            lock (_gate)
            {
                batch.ForEach(p => Forget(p.EventId, p.Durable.Task)); // so the source's retry is written anew
            }

            send?.SetStatus(ActivityStatusCode.Error, e.GetType().Name);
            var failure = new IntakeUnavailableException(e);
            batch.ForEach(p => p.Durable.TrySetException(failure));
        }
    }

    /// <summary>The oldest pending deliveries, up to a write's worth. Under the gate.</summary>
    private List<Pending> TakeBatch()
    {
        var batch = _pending.GetRange(0, Math.Min(_pending.Count, MaxEntriesPerWrite));
        _pending.RemoveRange(0, batch.Count);
        return batch;
    }

    /// <summary>Under the gate.</summary>
    private void Remember(string eventId, Task durable)
    {
        if (_recent.Count >= RecentIdsPerGeneration)
        {
            _older = _recent;
            _recent = new Dictionary<string, Task>(StringComparer.Ordinal);
        }

        _recent[eventId] = durable;
    }

    /// <summary>Under the gate.</summary>
    private void Forget(string eventId, Task durable)
    {
        if (_recent.GetValueOrDefault(eventId) == durable)
        {
            _recent.Remove(eventId);
        }

        if (_older.GetValueOrDefault(eventId) == durable)
        {
            _older.Remove(eventId);
        }
    }

    private sealed record Pending(string EventId, string Json, string? TraceParent, TaskCompletionSource Durable);
}

/// <summary>One delivery handed to <see cref="GroupCommit.AcceptAllAsync"/>.</summary>
public sealed record IntakeDelivery(CustomerEvent Event, string DeliveryId, ReadOnlyMemory<byte> RawBody);

/// <summary>The outcome of one intake batch: how many deliveries it held and how many events it handed to the journeys.</summary>
public sealed record IngestBatchResult(int Deliveries, int Dispatched);

/// <summary>
/// Processes an intake batch asynchronously: materializes each event as its customer's event row (the conditional
/// insert is the durable deduplication by delivery id) and hands the events this batch claimed to the journeys in one
/// <see cref="JourneyEventsMessage"/>. The batch's queue message is deleted after this returns.
/// Crash safety: the message stays until then, so a crash at any step runs the batch again; rows this batch claimed
/// on an earlier attempt are recognized by the batch id and dispatched, rows another delivery stored first are not.
/// </summary>
public sealed class IngestBatchHandler(IEventStore events, IWorkQueue queue)
{
    /// <summary>
    /// Row writes in flight across all batches: enough to keep the storage busy, few enough that a backlog being
    /// worked off does not queue ahead of the intake writes that requests wait for.
    /// </summary>
    public const int MaxClaimsInFlight = 8;

    private readonly SemaphoreSlim _claims = new(MaxClaimsInFlight);

    public Task<IngestBatchResult> HandleAsync(IngestBatchMessage batch, CancellationToken cancellationToken) =>
        HandleAsync(batch, batch.ReadEntries(), cancellationToken);

    /// <param name="entries">The batch's entries, read by the caller already (it continues their traces).</param>
    public async Task<IngestBatchResult> HandleAsync(IngestBatchMessage batch, IReadOnlyList<IntakeEntry> entries, CancellationToken cancellationToken)
    {
        var distinct = entries.DistinctBy(e => e.Event.EventId, StringComparer.Ordinal).ToList();
        var claimed = await Task.WhenAll(distinct.Select(e => ClaimAsync(e, batch.BatchId, cancellationToken)));
        var owned = distinct.Where((_, i) => claimed[i])
            .Select(e => new JourneyEventMessage(e.Event.Customer.Platform, e.Event.Customer.CustomerId, e.Event.EventId, e.TraceParent))
            .ToList();
        if (owned.Count > 0)
        {
            await queue.EnqueueEventsAsync(new JourneyEventsMessage(owned), cancellationToken);
        }

        return new IngestBatchResult(entries.Count, owned.Count);
    }

    private async Task<bool> ClaimAsync(IntakeEntry entry, string batchId, CancellationToken cancellationToken)
    {
        await _claims.WaitAsync(cancellationToken);
        try
        {
            return await events.TryClaimAsync(entry.Event, entry.RawBody, batchId, cancellationToken);
        }
        finally
        {
            _claims.Release();
        }
    }
}
