using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Nudge.App.Hosting;

/// <summary>One <c>[Function]</c> method of the app and its trigger, read from the method's attributes.</summary>
public abstract record FunctionEntry(string Name, MethodInfo Method, ParameterInfo TriggerParameter)
{
    public Type Class => Method.DeclaringType!;
}

/// <summary>An HTTP function: <paramref name="Route"/> is below the route prefix (host.json's <c>extensions.http.routePrefix</c>).</summary>
public sealed record HttpFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter, string Route, IReadOnlyList<string> Verbs)
    : FunctionEntry(Name, Method, TriggerParameter);

public sealed record QueueFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter, string QueueName, string? Connection)
    : FunctionEntry(Name, Method, TriggerParameter);

/// <summary>
/// A Service Bus queue function: the channel senders when Service Bus carries the deliveries. Only the Functions host
/// fires them; the local run has Storage queues as its one transport (<see cref="LocalTriggerDriver"/>).
/// </summary>
public sealed record ServiceBusFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter, string QueueName, string? Connection)
    : FunctionEntry(Name, Method, TriggerParameter);

/// <summary>A timer function: <paramref name="Schedule"/> is NCRONTAB with seconds, as the Functions host reads it.</summary>
public sealed record TimerFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter, string Schedule)
    : FunctionEntry(Name, Method, TriggerParameter);

public sealed record OrchestratorFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter)
    : FunctionEntry(Name, Method, TriggerParameter);

public sealed record ActivityFunction(string Name, MethodInfo Method, ParameterInfo TriggerParameter)
    : FunctionEntry(Name, Method, TriggerParameter);

/// <summary>
/// The app's functions as the Functions host sees them: every method with <c>[Function]</c> and the trigger attribute
/// on one of its parameters. The local run serves exactly these, so there is no second list of functions to keep.
/// </summary>
public sealed class FunctionCatalog
{
    private FunctionCatalog(IReadOnlyList<FunctionEntry> functions) => Functions = functions;

    public IReadOnlyList<FunctionEntry> Functions { get; }

    public IEnumerable<HttpFunction> Http => Functions.OfType<HttpFunction>();
    public IEnumerable<QueueFunction> Queues => Functions.OfType<QueueFunction>();
    public IEnumerable<TimerFunction> Timers => Functions.OfType<TimerFunction>();
    public IEnumerable<ServiceBusFunction> ServiceBusQueues => Functions.OfType<ServiceBusFunction>();
    public IEnumerable<OrchestratorFunction> Orchestrators => Functions.OfType<OrchestratorFunction>();
    public IEnumerable<ActivityFunction> Activities => Functions.OfType<ActivityFunction>();

    /// <summary>The functions of this app's assembly.</summary>
    public static FunctionCatalog Default { get; } = Of(typeof(FunctionCatalog).Assembly);

    public static FunctionCatalog Of(Assembly assembly)
    {
        var functions = new List<FunctionEntry>();
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            {
                if (method.GetCustomAttribute<FunctionAttribute>() is { } function)
                {
                    functions.Add(Read(function.Name, method));
                }
            }
        }

        var twice = functions.GroupBy(f => f.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (twice.Count > 0)
        {
            throw new InvalidOperationException($"Function names must be unique; used twice: {string.Join(", ", twice)}.");
        }

        return new FunctionCatalog(functions.OrderBy(f => f.Name, StringComparer.Ordinal).ToList());
    }

    private static FunctionEntry Read(string name, MethodInfo method)
    {
        foreach (var parameter in method.GetParameters())
        {
            FunctionEntry? entry = parameter.GetCustomAttributes().FirstOrDefault() switch
            {
                HttpTriggerAttribute http => new HttpFunction(name, method, parameter, http.Route ?? name, (http.Methods ?? ["get", "post"]).Select(m => m.ToUpperInvariant()).ToList()),
                QueueTriggerAttribute queue => new QueueFunction(name, method, parameter, queue.QueueName, queue.Connection),
                TimerTriggerAttribute timer => new TimerFunction(name, method, parameter, timer.Schedule),
                { } attribute when IsServiceBusTrigger(attribute) => ReadServiceBus(name, method, parameter, attribute),
                OrchestrationTriggerAttribute => new OrchestratorFunction(name, method, parameter),
                ActivityTriggerAttribute => new ActivityFunction(name, method, parameter),
                _ => null,
            };
            if (entry is not null)
            {
                return entry;
            }
        }

        throw new InvalidOperationException($"Function {name} ({method.DeclaringType?.Name}.{method.Name}) has no trigger this app knows.");
    }

    /// <summary>
    /// Known by its name: the Service Bus extension is referenced only in builds with the Service Bus triggers
    /// (<c>-p:NudgeServiceBusTriggers=true</c>), and the catalog must read both kinds of build.
    /// </summary>
    public static bool IsServiceBusTrigger(Attribute attribute) =>
        attribute.GetType().FullName == "Microsoft.Azure.Functions.Worker.ServiceBusTriggerAttribute";

    private static ServiceBusFunction ReadServiceBus(string name, MethodInfo method, ParameterInfo parameter, Attribute attribute)
    {
        string? Read(string property) => attribute.GetType().GetProperty(property)?.GetValue(attribute) as string;
        return new ServiceBusFunction(name, method, parameter,
            Read("QueueName") ?? throw new InvalidOperationException($"Function {name}: a Service Bus trigger on a topic is not a delivery queue."), Read("Connection"));
    }
}
