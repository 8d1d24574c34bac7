using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;

namespace Nudge.App.Hosting;

/// <summary>
/// Calls a <c>[Function]</c> method outside the Functions host: creates its class from the invocation's services
/// (constructor injection, as the isolated worker does), binds each parameter and awaits the result.
/// </summary>
public static class FunctionInvoker
{
    /// <summary>One activity per non-HTTP invocation, named after the function, so traces (and storage counts) group by function.</summary>
    public const string ActivitySourceName = "Nudge.Functions";

    public static readonly ActivitySource Activities = new(ActivitySourceName);

    private static readonly ConcurrentDictionary<Type, ObjectFactory> Factories = new();
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> ResultProperties = new();

    /// <summary>Binds a parameter, or says it cannot (the caller then fails the app's start, not an invocation).</summary>
    public delegate bool Binder(ParameterInfo parameter, out object? value);

    /// <summary>Checks at start that every parameter of <paramref name="function"/> can be bound by <paramref name="canBind"/>.</summary>
    public static void EnsureBindable(FunctionEntry function, Func<ParameterInfo, bool> canBind)
    {
        var unbound = function.Method.GetParameters().Where(p => !canBind(p)).Select(p => $"{p.ParameterType.Name} {p.Name}").ToList();
        if (unbound.Count > 0)
        {
            throw new InvalidOperationException($"The local run cannot bind parameter(s) {string.Join(", ", unbound)} of function {function.Name}.");
        }
    }

    /// <returns>The function's return value, with a task awaited (null for a plain task or void).</returns>
    public static async Task<object?> InvokeAsync(FunctionEntry function, IServiceProvider services, Binder bind)
    {
        var parameters = function.Method.GetParameters();
        var arguments = new object?[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            if (!bind(parameters[i], out arguments[i]))
            {
                throw new InvalidOperationException($"Parameter {parameters[i].Name} of function {function.Name} cannot be bound.");
            }
        }

        var target = function.Method.IsStatic ? null : Factories.GetOrAdd(function.Class, t => ActivatorUtilities.CreateFactory(t, Type.EmptyTypes))(services, null);
        object? result;
        try
        {
            result = function.Method.Invoke(target, arguments);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }

        switch (result)
        {
            case Task task:
                await task;
                return ResultProperties.GetOrAdd(task.GetType(), t => t.IsGenericType ? t.GetProperty(nameof(Task<object>.Result)) : null)?.GetValue(task) switch
                {
                    { } value when value.GetType().FullName != "System.Threading.Tasks.VoidTaskResult" => value,
                    _ => null,
                };
            case ValueTask valueTask:
                await valueTask;
                return null;
            default:
                return result;
        }
    }
}
