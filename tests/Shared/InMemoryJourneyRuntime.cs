using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Testing;

/// <summary>
/// The journey runtime in memory, for fast handler tests: each run decides with the same interpreter and carries out
/// with the same <see cref="InstanceEffects"/> as the journey orchestration, at once, in the caller's flow (starts may
/// come from parallel callers, as an audience slice's members do; events and timers one at a time); timers
/// fire when a test moves its clock and calls <see cref="FireDueTimersAsync"/>. The contract suite in
/// Nudge.App.Tests holds it and the durable runtime to the same behaviour.
/// </summary>
public sealed class InMemoryJourneyRuntime(InstanceEffects effects, TimeProvider clock) : IJourneyRuntime
{
    private readonly Dictionary<string, JourneyInstance> _runs = new(StringComparer.Ordinal);
    private readonly Lock _starting = new();

    /// <summary>Every run by instance id, as its last decision left it.</summary>
    public IReadOnlyDictionary<string, JourneyInstance> Runs => _runs;

    public int Starts { get; private set; }

    public Task<bool> StartAsync(JourneyInstance started, CancellationToken cancellationToken)
    {
        lock (_starting)
        {
            if (!_runs.TryAdd(started.InstanceId, started))
            {
                return Task.FromResult(false);
            }

            Starts++;
            return Task.FromResult(true);
        }
    }

    public async Task RaiseAsync(JourneyInstance claimed, JourneyNews news, CancellationToken cancellationToken)
    {
        await StartAsync(claimed, cancellationToken); // a run that is not there yet starts from the claimed row, with the news first
        if (_runs[claimed.InstanceId] is { IsEnded: false } instance)
        {
            await SettleAsync(JourneyInterpreter.Apply(instance, news.At(clock.GetUtcNow()), news.Context), cancellationToken);
        }
    }

    public Task EraseAsync(string instanceId, CancellationToken cancellationToken)
    {
        _runs.Remove(instanceId);
        return Task.CompletedTask;
    }

    /// <summary>Fires every timer due by the clock, as the durable timers would: each run reads the customer as they are now.</summary>
    public async Task<int> FireDueTimersAsync(CancellationToken cancellationToken = default)
    {
        var fired = 0;
        var now = clock.GetUtcNow();
        foreach (var instance in _runs.Values.Where(i => !i.IsEnded && i.WaitingUntil <= now).ToList())
        {
            var context = await effects.ContextAsync(instance.Customer, instance.Definition.Id, cancellationToken);
            var input = context.Archived ? new JourneyArchived(now) : (JourneyInput)new TimerFired(now, instance.TimerSequence);
            await SettleAsync(JourneyInterpreter.Apply(instance, input, context.Customer), cancellationToken);
            fired++;
        }

        return fired;
    }

    private async Task SettleAsync(JourneyDecision decision, CancellationToken cancellationToken)
    {
        if (!decision.Changed)
        {
            return;
        }

        _runs[decision.Instance.InstanceId] = decision.Instance;
        if (!await effects.CarryOutAsync(decision.Instance, JourneyStarter.SendsOf(decision), rowSaved: false, cancellationToken))
        {
            _runs.Remove(decision.Instance.InstanceId);
        }
    }
}
