using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Time;

namespace Nudge.App.Hosting;

/// <summary>
/// The Functions host's part, played locally for the app's own <see cref="FunctionCatalog"/>: HTTP functions become
/// Kestrel routes under host.json's route prefix; queue functions are fed by <see cref="LocalTriggerDriver"/>.
/// </summary>
public static class LocalFunctionHost
{
    public static void MapHttpFunctions(WebApplication app, FunctionCatalog catalog, HostJson host)
    {
        foreach (var function in catalog.Http)
        {
            FunctionInvoker.EnsureBindable(function, p => CanBindHttp(function, p));
            var pattern = "/" + string.Join('/', new[] { host.RoutePrefix, function.Route }.Where(s => s.Length > 0));
            app.MapMethods(pattern, function.Verbs, context => InvokeHttpAsync(function, context))
                .WithName(function.Name)
                .WithMetadata(function);
        }
    }

    /// <summary>
    /// Invokes a queue or timer function with its trigger's value (a <c>QueueMessage</c> or its body, a <c>TimerInfo</c>)
    /// in a scope of its own, as one invocation of the host would.
    /// </summary>
    public static async Task InvokeTriggerAsync(IServiceProvider services, FunctionEntry function, object trigger, CancellationToken cancellationToken)
    {
        using var activity = FunctionInvoker.Activities.StartActivity(function.Name);
        await using var scope = services.CreateAsyncScope();
        await FunctionInvoker.InvokeAsync(function, scope.ServiceProvider, (ParameterInfo p, out object? value) =>
        {
            value = p == function.TriggerParameter ? trigger
                : IsDurableClient(p) ? services.GetRequiredService<LocalTaskHub>().Client
                : cancellationToken;
            return true;
        });
    }

    /// <summary>
    /// How long an idle poller may back off at most: host.json's cap, but with a fast virtual clock about one virtual
    /// minute, so polling latency does not stretch into virtual hours (and push a daytime message into the night).
    /// </summary>
    public static TimeSpan PollingCap(VirtualClock clock, TimeSpan configured, TimeSpan floor) =>
        TimeSpan.FromTicks(Math.Clamp(clock.ToRealDelay(TimeSpan.FromMinutes(1)).Ticks, Math.Min(floor.Ticks, configured.Ticks), configured.Ticks));

    /// <summary>A <c>[DurableClient] DurableTaskClient</c> parameter: bound to the local task hub's client.</summary>
    public static bool IsDurableClient(ParameterInfo parameter) =>
        parameter.ParameterType == typeof(Microsoft.DurableTask.Client.DurableTaskClient) && parameter.GetCustomAttribute<DurableClientAttribute>() is not null;

    private static bool CanBindHttp(HttpFunction function, ParameterInfo parameter) =>
        parameter.ParameterType == typeof(HttpRequest) || parameter.ParameterType == typeof(HttpContext) || parameter.ParameterType == typeof(CancellationToken)
        || (parameter.ParameterType == typeof(string) && function.Route.Contains($"{{{parameter.Name}}}", StringComparison.Ordinal));

    private static async Task InvokeHttpAsync(HttpFunction function, HttpContext context)
    {
        var result = await FunctionInvoker.InvokeAsync(function, context.RequestServices, (ParameterInfo p, out object? value) =>
        {
            value = p.ParameterType == typeof(HttpRequest) ? context.Request
                : p.ParameterType == typeof(HttpContext) ? context
                : p.ParameterType == typeof(CancellationToken) ? context.RequestAborted
                : context.Request.RouteValues[p.Name!]?.ToString();
            return true;
        });
        switch (result)
        {
            case IResult http:
                await http.ExecuteAsync(context);
                break;
            case null:
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            default:
                await Results.Json(result).ExecuteAsync(context);
                break;
        }
    }
}
