using System.Diagnostics;
using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Nudge.Core.Pipeline;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Nudge.App.Hosting;

/// <summary>
/// Exporters besides Azure Monitor, registered as a service before the app is composed (the tests register an
/// in-memory one). Registering one turns the OpenTelemetry setup on without a connection string, so what it
/// receives is what Azure Monitor would.
/// </summary>
public sealed record TelemetryExport(Action<TracerProviderBuilder>? Traces = null, Action<MeterProviderBuilder>? Metrics = null, Action<LoggerProviderBuilder>? Logs = null);

/// <summary>
/// OpenTelemetry for both hosts: traces (ASP.NET Core, HttpClient, the function invocations, the pipeline's spans
/// across its queues, the Durable Task orchestrations and activities), metrics (runtime, ASP.NET Core, HttpClient,
/// the pipeline's instruments) and logs, exported to Application Insights when
/// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set. Without an exporter nothing is registered at all: no
/// listener, so the app's spans and instruments are never even created.
/// </summary>
public static class NudgeTelemetry
{
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary><c>Authorization=AAD[;ClientId=&lt;user-assigned identity&gt;]</c>: the component accepts Entra ID tokens only (local auth off).</summary>
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>The local run's service name; under the Functions host the worker's defaults name it after the site.</summary>
    public const string LocalServiceName = "nudge";

    /// <summary>
    /// The activity sources besides ASP.NET Core and HttpClient: the local host's invocations, the pipeline, and the
    /// Durable Task Framework, whose orchestration and activity spans (DurableTask.Core in the local task hub,
    /// Microsoft.DurableTask in the isolated worker under the Functions host) carry a trace from the orchestration's
    /// start into the activity that queues the deliveries.
    /// </summary>
    public static IReadOnlyList<string> ActivitySources { get; } =
        [FunctionInvoker.ActivitySourceName, PipelineTracing.ActivitySourceName, "DurableTask.Core", "Microsoft.DurableTask"];

    /// <summary>The built-in meters of .NET (GC, thread pool, exceptions …) besides those the instrumentations add.</summary>
    public const string RuntimeMeter = "System.Runtime";

    /// <returns>Whether anything is exported.</returns>
    public static bool Add(IServiceCollection services, IConfiguration configuration, bool underFunctionsHost)
    {
        var connectionString = configuration[ConnectionStringSetting];
        var azureMonitor = !string.IsNullOrWhiteSpace(connectionString);
        var others = services.Where(d => d.ServiceType == typeof(TelemetryExport)).Select(d => d.ImplementationInstance).OfType<TelemetryExport>().ToList();
        if (!azureMonitor && others.Count == 0)
        {
            return false;
        }

        var tokenPaths = TokenPathPrefixes(HostJson.Load(AppContext.BaseDirectory).RoutePrefix);
        var telemetry = services.AddOpenTelemetry();
        if (!underFunctionsHost)
        {
            telemetry.ConfigureResource(resource => resource.AddService(LocalServiceName));
        }

        telemetry.WithTracing(tracing =>
        {
            tracing.AddSource([.. ActivitySources])
                .AddAspNetCoreInstrumentation(options => options.EnrichWithHttpRequest = (activity, request) => RedactTokenPath(activity, request.Path, tokenPaths))
                .AddHttpClientInstrumentation(options => options.FilterHttpRequestMessage = IsWorthTracing);
            others.ForEach(o => o.Traces?.Invoke(tracing));
        });
        telemetry.WithMetrics(metrics =>
        {
            metrics.AddAspNetCoreInstrumentation().AddHttpClientInstrumentation().AddMeter(RuntimeMeter, PipelineMetrics.MeterName);
            others.ForEach(o => o.Metrics?.Invoke(metrics));
        });
        telemetry.WithLogging(logging => others.ForEach(o => o.Logs?.Invoke(logging)), options => options.IncludeFormattedMessage = true);

        // The request span records every request with its query values redacted; the hosting's "Request starting" line
        // would carry the raw query (the providers' callback key, unsubscribe tokens) into the exported logs.
        services.AddLogging(logging => logging.AddFilter<OpenTelemetryLoggerProvider>("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning));

        if (underFunctionsHost)
        {
            // The worker's invocation spans (children of the host's) and the site's resource attributes.
            telemetry.UseFunctionsWorkerDefaults();
        }

        if (azureMonitor)
        {
            var credential = CredentialFrom(configuration[AuthenticationStringSetting]);
            telemetry.UseAzureMonitorExporter(options =>
            {
                options.ConnectionString = connectionString;
                options.Credential = credential;
            });
        }

        return true;
    }

    /// <summary>
    /// Outgoing HTTP calls worth a span: all but the storage SDK's calls made outside any span, which are the pollers of
    /// the queues and the task hub (a trace each, many a minute, all alike). A storage call a function makes is kept.
    /// </summary>
    private static bool IsWorthTracing(HttpRequestMessage request) =>
        Activity.Current?.ParentId is not null
        || !(request.Headers.UserAgent.ToString().Contains("azsdk-net-", StringComparison.Ordinal));

    /// <summary>
    /// The path prefixes of routes whose last segment is a link token (<c>/api/r/{token}</c>): a token in a span's
    /// path would let whoever reads the telemetry follow the customer's link.
    /// </summary>
    private static IReadOnlyList<(string Prefix, string Template)> TokenPathPrefixes(string routePrefix) =>
        FunctionCatalog.Default.Http
            .Where(f => f.Route.EndsWith("/{token}", StringComparison.Ordinal))
            .Select(f => "/" + string.Join('/', new[] { routePrefix, f.Route }.Where(s => s.Length > 0)))
            .Select(template => (template[..^"{token}".Length], template))
            .Distinct()
            .ToList();

    private static void RedactTokenPath(Activity activity, PathString path, IReadOnlyList<(string Prefix, string Template)> tokenPaths)
    {
        foreach (var (prefix, template) in tokenPaths)
        {
            if (path.Value?.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) == true)
            {
                activity.SetTag("url.path", template);
                return;
            }
        }
    }

    /// <summary>Entra ID for the exporter when the authentication string asks for it (a managed identity: the one named, or the system one).</summary>
    private static TokenCredential? CredentialFrom(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        var parts = authenticationString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2, StringSplitOptions.TrimEntries))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        if (!parts.TryGetValue("Authorization", out var authorization) || !authorization.Equals("AAD", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return parts.TryGetValue("ClientId", out var clientId) && clientId.Length > 0
            ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
            : new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }
}
