using Nudge.Core.Customers;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

public enum RunOutcome
{
    Started,
    AlreadyExists,
    Applied,
    Unchanged,
    NoInstance,
}

/// <summary>
/// The durable shell around the pure interpreter. A decision is saved together with its commands (the outbox)
/// under optimistic concurrency before any command is carried out; then the outbox is carried out. Commands carry
/// deterministic ids, so carrying them out twice has one effect.
/// The outbox is not cleared after it is carried out (that would be one more write per transition). It is settled
/// lazily instead: sends go out before timers, so the firing of the outbox's own timer proves the whole outbox done;
/// the redelivery of the message that wrote it (its handler stopped half-way) carries it out again; and any other
/// change carries it out again before its decision replaces it. An outbox nothing would settle (no timer, the
/// instance still waiting, or no known writer) is cleared at once as before.
/// </summary>
public sealed class JourneyRunner(IJourneyInstanceStore instances, IWorkQueue queue, TimeProvider clock)
{
    private const int MaxAttempts = 10;

    /// <param name="knownAbsent">The caller just listed the customer's instances and this slot was empty: skip the read
    /// (the insert still fails on a race, and the retry reads).</param>
    /// <param name="writer">The id of the queue message being handled, if any (see <see cref="StoredInstance.WrittenBy"/>).</param>
    /// <param name="saved">Told the instance as saved, e.g. so the caller's next decision sees its sends.</param>
    /// <param name="replayed">The message is a replayed dead letter: it may finish an outbox whatever wrote it.</param>
    public async Task<RunOutcome> StartAsync(
        JourneyDefinition definition, CustomerKey customer, CustomerContext context, EntryTrigger? trigger, CancellationToken cancellationToken,
        bool knownAbsent = false, string? writer = null, Action<JourneyInstance>? saved = null, bool replayed = false)
    {
        var slot = JourneyInstance.SlotFor(definition.Id, trigger?.BusinessKey);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var existing = attempt == 0 && knownAbsent ? null : await instances.GetAsync(customer, slot, cancellationToken);
            if (existing is not null && existing.Value.WrittenBy is null)
            {
                existing = await SettleEagerlyAsync(existing, cancellationToken);
                if (existing is null)
                {
                    continue;
                }
            }

            var now = clock.GetUtcNow();
            // The same trigger (a redelivered event, a repeated schedule run) never enters twice, whatever the re-entry policy.
            var sameTrigger = trigger?.EventId is { } triggerId && existing?.Value.Instance.EntryEventId == triggerId;
            if (sameTrigger || !JourneyInterpreter.MayEnter(definition, existing?.Value.Instance, now))
            {
                if (existing is not null && MayFinish(existing.Value, writer, replayed))
                {
                    await ExecuteAsync(existing.Value, cancellationToken);
                }

                return RunOutcome.AlreadyExists;
            }

            if (existing is not null)
            {
                await ExecuteAsync(existing.Value, cancellationToken); // the re-entry replaces an outbox that may be undone
            }

            var entry = (existing?.Value.Instance.Entry ?? 0) + 1;
            var decision = JourneyInterpreter.Start(definition, customer, now, context, trigger, entry);
            // A re-entry takes the slot over: the sends of the entry before still count against caps.
            var started = existing is null ? decision.Instance
                : decision.Instance with { RecentSends = [.. FrequencyCaps.StillCounting(existing.Value.Instance.RecentSends, now), .. decision.Instance.RecentSends] };
            var stored = new StoredInstance(started, decision.Commands, writer);
            var version = await instances.TrySaveAsync(stored, existing?.Version, cancellationToken);
            if (version is null)
            {
                continue;
            }

            saved?.Invoke(stored.Instance);
            await CarryOutAsync(new Versioned<StoredInstance>(stored, version), cancellationToken);
            return RunOutcome.Started;
        }

        throw new ConcurrencyException($"Could not start journey '{definition.Id}' after {MaxAttempts} attempts.");
    }

    /// <param name="loaded">The instance as the caller just read it, to save a read; reloaded after a lost race.</param>
    /// <param name="writer">The id of the queue message being handled, if any (see <see cref="StoredInstance.WrittenBy"/>).</param>
    /// <param name="saved">Told the instance as saved, e.g. so the caller's next decision sees its sends.</param>
    /// <param name="replayed">The message is a replayed dead letter: it may finish an outbox whatever wrote it.</param>
    public async Task<RunOutcome> ApplyAsync(
        CustomerKey customer, string slot, Func<DateTimeOffset, JourneyInput> input, CustomerContext context, CancellationToken cancellationToken,
        Versioned<StoredInstance>? loaded = null, string? writer = null, Action<JourneyInstance>? saved = null, bool replayed = false)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = attempt == 0 && loaded is not null ? loaded : await instances.GetAsync(customer, slot, cancellationToken);
            if (current is null)
            {
                return RunOutcome.NoInstance;
            }

            if (current.Value.WrittenBy is null)
            {
                current = await SettleEagerlyAsync(current, cancellationToken);
                if (current is null)
                {
                    continue;
                }
            }

            var applied = input(clock.GetUtcNow());
            var unsettled = current.Value.Outbox.Count > 0 && !ProvenBy(current.Value, applied);
            var decision = JourneyInterpreter.Apply(current.Value.Instance, applied, context);
            if (!decision.Changed)
            {
                if (unsettled && MayFinish(current.Value, writer, replayed))
                {
                    await ExecuteAsync(current.Value, cancellationToken);
                }

                return RunOutcome.Unchanged;
            }

            if (unsettled)
            {
                await ExecuteAsync(current.Value, cancellationToken); // its writer may have stopped before carrying it out
            }

            var stored = new StoredInstance(decision.Instance, decision.Commands, writer);
            var version = await instances.TrySaveAsync(stored, current.Version, cancellationToken);
            if (version is null)
            {
                continue;
            }

            saved?.Invoke(stored.Instance);
            await CarryOutAsync(new Versioned<StoredInstance>(stored, version), cancellationToken);
            return RunOutcome.Applied;
        }

        throw new ConcurrencyException($"Could not apply input to journey instance '{slot}' after {MaxAttempts} attempts.");
    }

    /// <summary>
    /// Whether a timer message should be looked at: the instance's current timer, a redelivery of the message that
    /// wrote its outbox, or a replayed dead letter while an outbox is unsettled. Any other timer is stale (or a copy
    /// made when an outbox was carried out again) and is dropped without a write, so copies never multiply (a replay
    /// is one operator action: the copies it may leave are ordinary messages again).
    /// </summary>
    public static bool Concerns(StoredInstance stored, int timerSequence, string? messageId, bool replayed = false) =>
        (!stored.Instance.IsEnded && stored.Instance.TimerSequence == timerSequence)
        || (stored.Outbox.Count > 0 && (stored.WrittenBy is null || MayFinish(stored, messageId, replayed)));

    /// <summary>
    /// Whether handling that changes nothing should still carry the outbox out: when it is the redelivery of the message
    /// that wrote it (its first handling stopped half-way), or a replayed dead letter (its original id is lost).
    /// </summary>
    private static bool MayFinish(StoredInstance stored, string? messageId, bool replayed) =>
        stored.Outbox.Count > 0 && (replayed || (messageId is not null && stored.WrittenBy == messageId));

    /// <summary>Sends go out before timers, so the outbox's own timer firing proves all of it done.</summary>
    private static bool ProvenBy(StoredInstance stored, JourneyInput input) =>
        input is TimerFired fired && stored.Outbox.Any(c => c is ScheduleTimer t && t.Sequence == fired.Sequence);

    /// <summary>An outbox without a known writer (saved by an HTTP request, or by an older version): carry out and clear.</summary>
    private async Task<Versioned<StoredInstance>?> SettleEagerlyAsync(Versioned<StoredInstance> current, CancellationToken cancellationToken)
    {
        if (current.Value.Outbox.Count == 0)
        {
            return current;
        }

        await ExecuteAsync(current.Value, cancellationToken);
        return await ClearAsync(current, cancellationToken);
    }

    /// <summary>Carries out a just-saved outbox; clears it only when nothing later would settle it.</summary>
    private async Task CarryOutAsync(Versioned<StoredInstance> saved, CancellationToken cancellationToken)
    {
        var (instance, outbox, writer) = saved.Value;
        if (outbox.Count == 0)
        {
            return;
        }

        await ExecuteAsync(saved.Value, cancellationToken);
        // Kept: a timer will prove it; an ended instance is rarely touched again (its last sends carried out again then
        // are harmless). Cleared: an instance waiting for an event would otherwise carry it out at each event.
        if (writer is null || (!instance.IsEnded && !outbox.Any(c => c is ScheduleTimer)))
        {
            await ClearAsync(saved, cancellationToken);
        }
    }

    private async Task<Versioned<StoredInstance>?> ClearAsync(Versioned<StoredInstance> current, CancellationToken cancellationToken)
    {
        var cleared = current.Value with { Outbox = [], WrittenBy = null };
        var version = await instances.TrySaveAsync(cleared, current.Version, cancellationToken);
        return version is null ? null : new Versioned<StoredInstance>(cleared, version);
    }

    /// <summary>Sends before timers: a timer that fires proves every command of its outbox done.</summary>
    private async Task ExecuteAsync(StoredInstance stored, CancellationToken cancellationToken)
    {
        var (instance, outbox, _) = stored;
        foreach (var command in outbox.OrderBy(c => c is ScheduleTimer ? 1 : 0))
        {
            switch (command)
            {
                case SendMessage send:
                    // The order rides in the message; the worker's claim writes the delivery row (caps count the
                    // send from the instance's own record of it).
                    var order = new DeliveryOrder(instance.Definition.Id, send.StepIndex, send.Channel, send.Template, send.Class, send.ScheduledFor);
                    await queue.EnqueueDeliveryAsync(send.Channel, new DeliveryMessage(instance.Customer.Platform, instance.Customer.CustomerId, send.DeliveryId, order), notBefore: null, cancellationToken);
                    break;

                case ScheduleTimer timer:
                    await queue.EnqueueTimerAsync(new JourneyTimerMessage(
                        instance.Customer.Platform, instance.Customer.CustomerId, instance.Definition.Id, timer.Sequence, timer.DueAt,
                        instance.BusinessKey is null ? null : instance.Slot), cancellationToken);
                    break;

                default:
                    throw new InvalidOperationException($"Unknown command {command.GetType().Name}.");
            }
        }
    }
}

/// <summary>Optimistic concurrency kept losing; the transport's retry will try again later.</summary>
public sealed class ConcurrencyException(string message) : Exception(message);
