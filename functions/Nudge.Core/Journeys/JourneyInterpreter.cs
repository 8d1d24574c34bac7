using Nudge.Core.Compliance;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;

namespace Nudge.Core.Journeys;

/// <summary>
/// The pure, total journey interpreter: state + one input → new state + commands. It never reads a clock, does
/// I/O or draws random numbers, so the same inputs always give the same decision (replay-safe, simulator-ready).
/// </summary>
public static class JourneyInterpreter
{
    public static string InstanceIdFor(string journeyId, CustomerKey customer) => $"{journeyId}|{customer}";

    public static JourneyDecision Start(JourneyDefinition definition, CustomerKey customer, DateTimeOffset at, CustomerContext context)
    {
        var instance = new JourneyInstance
        {
            InstanceId = InstanceIdFor(definition.Id, customer),
            Customer = customer,
            Definition = definition,
            StartedAt = at,
        };

        if (context.GoalReachedBeforeStart)
        {
            return new JourneyDecision(End(instance, InstanceStatus.Exited, at, "goal reached before start"), [], true);
        }

        return Advance(instance, at, context);
    }

    public static JourneyDecision Apply(JourneyInstance instance, JourneyInput input, CustomerContext context)
    {
        if (instance.IsEnded)
        {
            return JourneyDecision.Unchanged(instance);
        }

        switch (input)
        {
            // An exit event ends the instance whenever it arrives: a customer who bought is done, even if the
            // order's own timestamp predates the start (webhooks arrive out of order).
            case EventArrived arrived when instance.Definition.ExitOn.Contains(arrived.EventType):
                return new JourneyDecision(End(instance, InstanceStatus.Exited, input.At, $"goal: {arrived.EventType}"), [], true);

            case TimerFired fired when fired.Sequence == instance.TimerSequence && instance.WaitingUntil is { } until && fired.At >= until:
                var current = instance.Definition.Steps[instance.StepIndex];
                var resumed = instance with
                {
                    WaitingUntil = null,
                    // A finished wait moves on; a deferred send is tried again at the same step.
                    StepIndex = current is WaitStep ? instance.StepIndex + 1 : instance.StepIndex,
                };
                return Advance(resumed, input.At, context);

            default:
                return JourneyDecision.Unchanged(instance);
        }
    }

    private static JourneyDecision Advance(JourneyInstance instance, DateTimeOffset at, CustomerContext context)
    {
        var commands = new List<JourneyCommand>();
        var steps = instance.Definition.Steps;

        // Each pass either ends, waits or moves one step forward, so the loop is bounded by the step count.
        while (instance.StepIndex < steps.Count)
        {
            switch (steps[instance.StepIndex])
            {
                case WaitStep wait:
                    return Wait(instance, at + wait.Duration, commands);

                case SendStep send:
                    var allowedAt = QuietHours.NextAllowed(send.Channel, send.Class, at, context.TimeZone, context.NightConsent);
                    if (allowedAt > at)
                    {
                        return Wait(instance, allowedAt, commands);
                    }

                    var deliveryId = DeliveryId.For(instance.InstanceId, instance.StepIndex, attempt: 0);
                    commands.Add(new SendMessage(deliveryId, instance.StepIndex, send.Channel, send.Template, send.Class, at));
                    instance = instance with { StepIndex = instance.StepIndex + 1 };
                    break;

                default:
                    throw new InvalidOperationException($"Unknown step type {steps[instance.StepIndex].GetType().Name}.");
            }
        }

        return new JourneyDecision(End(instance, InstanceStatus.Completed, at, "completed"), commands, true);
    }

    private static JourneyDecision Wait(JourneyInstance instance, DateTimeOffset until, List<JourneyCommand> commands)
    {
        var sequence = instance.TimerSequence + 1;
        commands.Add(new ScheduleTimer(sequence, until));
        return new JourneyDecision(instance with { TimerSequence = sequence, WaitingUntil = until }, commands, true);
    }

    private static JourneyInstance End(JourneyInstance instance, InstanceStatus status, DateTimeOffset at, string reason) =>
        instance with { Status = status, EndedAt = at, EndReason = reason, WaitingUntil = null };
}
