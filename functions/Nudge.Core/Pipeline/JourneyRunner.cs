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
/// under optimistic concurrency before any command is carried out, then the outbox is flushed and cleared.
/// A crash anywhere leaves either nothing or a saved outbox that the next touch of the instance flushes;
/// commands carry deterministic ids, so flushing twice has one effect.
/// </summary>
public sealed class JourneyRunner(IJourneyInstanceStore instances, IDeliveryLog deliveries, IWorkQueue queue, TimeProvider clock)
{
    private const int MaxAttempts = 10;

    /// <param name="knownAbsent">The caller just listed the customer's instances and this slot was empty: skip the read
    /// (the insert still fails on a race, and the retry reads).</param>
    public async Task<RunOutcome> StartAsync(
        JourneyDefinition definition, CustomerKey customer, CustomerContext context, EntryTrigger? trigger, CancellationToken cancellationToken,
        bool knownAbsent = false)
    {
        var slot = JourneyInstance.SlotFor(definition.Id, trigger?.BusinessKey);
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var existing = attempt == 0 && knownAbsent ? null : await instances.GetAsync(customer, slot, cancellationToken);
            if (existing is not null)
            {
                // Finish whatever the existing instance left undone before deciding on re-entry.
                existing = await FlushAsync(existing, cancellationToken);
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
                return RunOutcome.AlreadyExists;
            }

            var entry = (existing?.Value.Instance.Entry ?? 0) + 1;
            var decision = JourneyInterpreter.Start(definition, customer, now, context, trigger, entry);
            var stored = new StoredInstance(decision.Instance, decision.Commands);
            var version = await instances.TrySaveAsync(stored, existing?.Version, cancellationToken);
            if (version is null)
            {
                continue;
            }

            await FlushAsync(new Versioned<StoredInstance>(stored, version), cancellationToken);
            return RunOutcome.Started;
        }

        throw new ConcurrencyException($"Could not start journey '{definition.Id}' after {MaxAttempts} attempts.");
    }

    /// <param name="loaded">The instance as the caller just read it, to save a read; reloaded after a lost race.</param>
    public async Task<RunOutcome> ApplyAsync(
        CustomerKey customer, string slot, Func<DateTimeOffset, JourneyInput> input, CustomerContext context, CancellationToken cancellationToken,
        Versioned<StoredInstance>? loaded = null)
    {
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = attempt == 0 && loaded is not null ? loaded : await instances.GetAsync(customer, slot, cancellationToken);
            if (current is null)
            {
                return RunOutcome.NoInstance;
            }

            current = await FlushAsync(current, cancellationToken);
            if (current is null)
            {
                continue;
            }

            var decision = JourneyInterpreter.Apply(current.Value.Instance, input(clock.GetUtcNow()), context);
            if (!decision.Changed)
            {
                return RunOutcome.Unchanged;
            }

            var stored = new StoredInstance(decision.Instance, decision.Commands);
            var version = await instances.TrySaveAsync(stored, current.Version, cancellationToken);
            if (version is null)
            {
                continue;
            }

            await FlushAsync(new Versioned<StoredInstance>(stored, version), cancellationToken);
            return RunOutcome.Applied;
        }

        throw new ConcurrencyException($"Could not apply input to journey instance '{slot}' after {MaxAttempts} attempts.");
    }

    /// <summary>Carries out the outbox and clears it. Returns the instance as now stored, or null if another writer raced ahead.</summary>
    private async Task<Versioned<StoredInstance>?> FlushAsync(Versioned<StoredInstance> current, CancellationToken cancellationToken)
    {
        var (instance, outbox) = current.Value;
        if (outbox.Count == 0)
        {
            return current;
        }

        foreach (var command in outbox)
        {
            switch (command)
            {
                case SendMessage send:
                    await deliveries.AddQueuedAsync(new DeliveryRecord
                    {
                        DeliveryId = send.DeliveryId,
                        Customer = instance.Customer,
                        JourneyId = instance.Definition.Id,
                        StepIndex = send.StepIndex,
                        Channel = send.Channel,
                        Template = send.Template,
                        Class = send.Class,
                        Status = Delivery.DeliveryStatus.Queued,
                        ScheduledFor = send.ScheduledFor,
                    }, cancellationToken);
                    await queue.EnqueueDeliveryAsync(send.Channel, new DeliveryMessage(instance.Customer.Platform, instance.Customer.CustomerId, send.DeliveryId), notBefore: null, cancellationToken);
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

        var cleared = new StoredInstance(instance, []);
        var version = await instances.TrySaveAsync(cleared, current.Version, cancellationToken);
        return version is null ? null : new Versioned<StoredInstance>(cleared, version);
    }
}

/// <summary>Optimistic concurrency kept losing; the transport's retry will try again later.</summary>
public sealed class ConcurrencyException(string message) : Exception(message);
