using Nudge.Core.Customers;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

public enum RunOutcome
{
    Started,
    AlreadyExists,

    /// <summary>This very trigger entered the customer before (a redelivery, a slice run again): nothing new started.</summary>
    Repeated,

    /// <summary>
    /// The shop's limit on concurrent marketing journeys refused the start at the <see cref="IMarketingJourneyLedger"/>:
    /// a start made at the same time for the customer was admitted first.
    /// </summary>
    Refused,
}

/// <summary>
/// An event for a running instance, with the customer as its sender saw them (<see cref="Context"/>). The runtime
/// stamps the time when the instance takes it.
/// </summary>
public sealed record JourneyNews(string EventType, string EventId, string? BusinessKey, IReadOnlyDictionary<string, string> Facts, CustomerContext Context)
{
    public EventArrived At(DateTimeOffset at) => new(at, EventType, EventId, BusinessKey, Facts);
}

/// <summary>
/// Where journey instances run: each instance is one durable run that waits for its timers and for the events it is
/// told about, and decides with the pure <see cref="JourneyInterpreter"/>. A run is identified by its instance id.
/// </summary>
public interface IJourneyRuntime
{
    /// <summary>
    /// Starts the run of an instance whose first decision is made (by the starter, where the entry was decided, so
    /// caps hold across the journeys one event starts): the run goes on from there. A run with its id that exists
    /// already is left alone (a repeated start is a no-op).
    /// </summary>
    /// <returns>Whether this call started the run (false: it existed).</returns>
    Task<bool> StartAsync(JourneyInstance started, CancellationToken cancellationToken);

    /// <summary>
    /// Tells a running instance about an event; an instance that has ended ignores it. An instance whose row is
    /// claimed but whose run has not started yet (its starter is between the claim and the hand-over, or stopped
    /// there and awaits redelivery) is started here from <paramref name="instance"/>, its row as read, with the news
    /// as its first input: an event is never lost to that window.
    /// </summary>
    Task RaiseAsync(JourneyInstance instance, JourneyNews news, CancellationToken cancellationToken);

    /// <summary>Ends the instance's run at once and deletes what the runtime keeps of it (an erasure).</summary>
    Task EraseAsync(string instanceId, CancellationToken cancellationToken);
}

/// <summary>
/// Starts journey instances: decides the entry and the first step, claims the instance's slot with that state (so
/// every event after the claim finds the instance, and a concurrent start loses), carries out the first sends, then
/// hands the run to the runtime. A marketing start under the shop's limit on concurrent marketing journeys is admitted
/// by the <see cref="IMarketingJourneyLedger"/> before the claim, so starts made at once for one customer cannot
/// together exceed it.
/// </summary>
public sealed class JourneyStarter(
    IJourneyInstanceStore instances, InstanceEffects effects, IMarketingJourneyLedger marketingLedger, TimeProvider clock, Results.ResultsRecorder? results = null)
{
    /// <param name="knownAbsent">The caller just listed the customer's instances and this slot was empty: skip the read
    /// (the insert still fails on a race, and the retry reads).</param>
    /// <param name="saved">Told the instance as saved, so the caller's next decision sees its sends.</param>
    public async Task<RunOutcome> StartAsync(
        IJourneyRuntime runtime, JourneyDefinition definition, CustomerKey customer, CustomerContext context, EntryTrigger? trigger, CancellationToken cancellationToken,
        bool knownAbsent = false, Action<JourneyInstance>? saved = null)
    {
        var slot = JourneyInstance.SlotFor(definition.Id, trigger?.BusinessKey);
        return await OptimisticConcurrency.RetryAsync($"The start of journey '{definition.Id}'", async attempt =>
        {
            var existing = attempt == 0 && knownAbsent ? null : await instances.GetAsync(customer, slot, cancellationToken);
            var now = clock.GetUtcNow();
            // The same trigger (a redelivered event, a repeated schedule run) never enters twice, whatever the re-entry
            // policy. Its first handling may have stopped between the claim and the hand-over: then the run starts
            // now (unless an event for it started it meanwhile), and the first sends go out again (by their delivery
            // ids: copies of a send that did go are dropped).
            if (trigger?.EventId is { } triggerId && existing?.Value.EntryEventId == triggerId)
            {
                var started = existing.Value;
                // Its first handling may have stopped before counting the entry: count it now (once, by its id).
                await CountEntryAsync(started, cancellationToken);
                if (!started.IsEnded)
                {
                    var first = JourneyInterpreter.Begin(
                        JourneyInterpreter.Entering(started.Definition, customer, started.StartedAt, trigger, started.Entry), started.StartedAt, context);
                    await effects.CarryOutAsync(started, SendsOf(first), rowSaved: true, cancellationToken);
                    await runtime.StartAsync(started, cancellationToken);
                }

                return Attempt.Done(RunOutcome.Repeated);
            }

            if (!JourneyInterpreter.MayEnter(definition, existing?.Value, now))
            {
                return Attempt.Done(RunOutcome.AlreadyExists);
            }

            if (await RefusedByLimitAsync(definition, customer, slot, context, now, cancellationToken))
            {
                return Attempt.Done(RunOutcome.Refused);
            }

            var entering = JourneyInterpreter.Entering(definition, customer, now, trigger, (existing?.Value.Entry ?? 0) + 1) with
            {
                // A re-entry takes the slot over: the sends of the entry before still count against caps.
                RecentSends = existing is null ? [] : [.. FrequencyCaps.StillCounting(existing.Value.RecentSends, now)],
            };
            var decision = JourneyInterpreter.Begin(entering, now, context);
            if (await instances.TrySaveAsync(decision.Instance, existing?.Version, cancellationToken) is null)
            {
                return Attempt.Lost;
            }

            saved?.Invoke(decision.Instance);
            await CountEntryAsync(decision.Instance, cancellationToken);
            await effects.CarryOutAsync(decision.Instance, SendsOf(decision), rowSaved: true, cancellationToken,
                [.. Results.ResultFacts.OfDecision(entering, decision.Instance).Where(f => f.Measure != Results.Measures.Assigned)]);
            if (!decision.Instance.IsEnded)
            {
                // An instance its first decision ended (a goal reached before, sends only) needs no run.
                await runtime.StartAsync(decision.Instance, cancellationToken);
            }

            return Attempt.Done(RunOutcome.Started);
        }, cancellationToken);
    }

    public static List<SendMessage> SendsOf(JourneyDecision decision) => decision.Commands.OfType<SendMessage>().ToList();

    /// <summary>
    /// Whether the ledger refuses a marketing start under the shop's limit, judged on the customer's instances listed
    /// now; other starts never ask (no storage request).
    /// </summary>
    private async Task<bool> RefusedByLimitAsync(
        JourneyDefinition definition, CustomerKey customer, string slot, CustomerContext context, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var limit = context.CrossJourney.MaxConcurrentMarketingJourneys;
        if (limit <= 0 || !definition.IsMarketing)
        {
            return false;
        }

        var listed = await instances.ListForCustomerAsync(customer, cancellationToken).ToListAsync(cancellationToken);
        return await marketingLedger.AdmitAsync(new MarketingAdmission(customer, slot, now, limit, listed), cancellationToken) is not null;
    }

    /// <summary>The entry counts in the journey's results under the group its first decision put it in.</summary>
    private Task CountEntryAsync(JourneyInstance instance, CancellationToken cancellationToken) =>
        results is null ? Task.CompletedTask : results.RecordAsync(Results.ResultFacts.Entered(instance), cancellationToken);
}

/// <summary>What a running instance reads when its timer fires: the customer now, and whether its journey was archived.</summary>
public sealed record InstanceContext(CustomerContext Customer, bool Archived);

/// <summary>
/// The side effects of a running instance, each safe to repeat: what it needs to know when its timer fires, and
/// carrying out a decision (the sends, by their deterministic delivery ids, and the instance's row that events,
/// caps and marketers read).
/// </summary>
public sealed class InstanceEffects(
    IJourneyInstanceStore instances, IProfileStore profiles, IDeliveryQueue queue, RecentSends recentSends, IJourneyCatalog catalog, PipelineSettings settings,
    Results.ResultsRecorder? results = null)
{
    public async Task<InstanceContext> ContextAsync(CustomerKey customer, string journeyId, CancellationToken cancellationToken)
    {
        var profile = (await profiles.GetAsync(customer, cancellationToken))?.Value;
        var sends = await recentSends.ForAsync(customer, cancellationToken);
        var archived = await catalog.StatusAsync(journeyId, cancellationToken) == JourneyStatus.Archived;
        return new InstanceContext(CustomerContexts.For(profile, settings, sends), archived);
    }

    /// <param name="rowSaved">The row already holds this state (the starter claimed it with it): only the sends remain.</param>
    /// <param name="counted">What the decision counts in the journey's results (<see cref="Results.ResultFacts.OfDecision"/>): recorded once each, by their ids.</param>
    /// <returns>False if the instance's row is gone (its customer was erased): nothing is sent then.</returns>
    public async Task<bool> CarryOutAsync(
        JourneyInstance instance, IReadOnlyList<SendMessage> sends, bool rowSaved, CancellationToken cancellationToken, IReadOnlyList<Results.ResultFact>? counted = null)
    {
        if (!rowSaved && !await instances.ReplaceIfPresentAsync(instance, cancellationToken))
        {
            return false;
        }

        if (results is not null && counted is { Count: > 0 })
        {
            await results.RecordAsync(counted, cancellationToken);
        }

        var group = Results.Groups.Of(instance);
        foreach (var send in sends)
        {
            // The order rides in the message; the worker's claim writes the delivery row (caps count the send from the
            // instance's own record of it).
            var order = new DeliveryOrder(instance.Definition.Id, send.StepIndex, send.Channel, send.Template, send.Class, send.ScheduledFor, group.Length == 0 ? null : group);
            await queue.EnqueueDeliveryAsync(send.Channel, new DeliveryMessage(instance.Customer.Platform, instance.Customer.CustomerId, send.DeliveryId, order), notBefore: null, cancellationToken);
        }

        return true;
    }
}
