using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nudge.App.Hosting;
using Nudge.Core.Pipeline;
using Nudge.Testing;
using OpenTelemetry.Logs;
using OpenTelemetry.Trace;
using Xunit.Abstractions;

namespace Nudge.App.Tests;

/// <summary>
/// The app's OpenTelemetry setup, with an in-memory exporter where Azure Monitor's would be (the same providers, the
/// same sources and instrumentations): one trace from a webhook to its delivery, no exporter without a connection
/// string, nothing personal or secret in what would be exported.
/// </summary>
public sealed class TelemetryTests(ITestOutputHelper output)
{
    private static int _nextId = Random.Shared.Next(1_000_000, 9_000_000);

    [Fact]
    public async Task SignupWebhook_CouponAndDayTwoSmsSentInTheWebhooksTrace()
    {
        var spans = new LockedList<Activity>();
        // Two virtual days in twelve real seconds, as in the welcome journey's end-to-end test.
        await using var app = await NudgeTestApp.StartAsync(clockSpeed: 2 * 86400 / 12.0, configure: builder =>
            builder.Services.AddSingleton(new TelemetryExport(Traces: tracing => tracing.AddInMemoryExporter(spans))));
        var id = Interlocked.Increment(ref _nextId);

        var response = await app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(id));
        var eventId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("eventId").GetString();
        var rows = await app.WaitForDeliveriesAsync(id.ToString(), r => r.Count == 2 && r.All(d => d.Status == "sent"), "the coupon and the day-2 SMS", seconds: 60);
        // A sender's span ends just after its delivery row says sent. A delivery may be processed more than once (a
        // copy of its message, a deferral): the span that sent it is the one that counts.
        var sent = await TestStorage.EventuallyAsync(
            () => Task.FromResult(rows.Select(row => spans.Snapshot().SingleOrDefault(s => s.OperationName == $"process delivery-{row.Channel}"
                && Tag(s, PipelineTracing.DeliveryIdTag) == row.DeliveryId && Tag(s, PipelineTracing.OutcomeTag) == nameof(DeliveryHandling.Sent))).ToList()),
            found => found.All(s => s is not null), TimeSpan.FromSeconds(10), "the spans of the sends");

        var webhook = spans.Snapshot().Single(s => s.Kind == ActivityKind.Server && Tag(s, PipelineTracing.EventIdTag) == eventId);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("/api/webhooks/shopify", Tag(webhook, "http.route"));
        Assert.Equal(["welcome-coupon", "welcome-day2"], sent.Select(s => Tag(s!, PipelineTracing.TemplateTag)));
        Assert.All(sent, s => Assert.Equal(nameof(DeliveryHandling.Sent), Tag(s!, PipelineTracing.OutcomeTag)));
        Assert.All(sent, s => Assert.Equal(webhook.TraceId, s!.TraceId));
        foreach (var span in spans.Snapshot().Where(s => s.TraceId == webhook.TraceId && s.Source.Name != "System.Net.Http").OrderBy(s => s.StartTimeUtc))
        {
            output.WriteLine($"{span.StartTimeUtc:HH:mm:ss.fff} {span.SpanId} <- {span.ParentSpanId} {span.Source.Name,-22} {span.Kind,-8} {span.DisplayName}");
        }
    }

    [Fact]
    public void WithoutConnectionString_NoAzureMonitorExporter()
    {
        var nothing = new ServiceCollection();
        var inMemoryOnly = new ServiceCollection().AddSingleton(new TelemetryExport(Traces: tracing => tracing.AddInMemoryExporter(new List<Activity>())));
        var azureMonitor = new ServiceCollection();
        // Never built: the services are only inspected, so nothing is sent anywhere.
        var fake = new Dictionary<string, string?> { [NudgeTelemetry.ConnectionStringSetting] = "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=http://127.0.0.1:9/" };

        var exportsNothing = NudgeTelemetry.Add(nothing, Configuration([]), underFunctionsHost: false);
        var exportsInMemory = NudgeTelemetry.Add(inMemoryOnly, Configuration([]), underFunctionsHost: false);
        var exportsAzure = NudgeTelemetry.Add(azureMonitor, Configuration(fake), underFunctionsHost: false);

        Assert.False(exportsNothing);
        Assert.Empty(nothing); // no provider, so no listener: the app's spans are not even created
        Assert.True(exportsInMemory);
        Assert.Contains(inMemoryOnly, d => d.ServiceType == typeof(TracerProvider));
        Assert.Empty(AzureMonitorRegistrations(inMemoryOnly));
        Assert.True(exportsAzure);
        Assert.NotEmpty(AzureMonitorRegistrations(azureMonitor)); // the check above can see one
    }

    [Fact]
    public async Task Telemetry_CarriesNoSecretEmailPhoneOrLinkToken()
    {
        var spans = new LockedList<Activity>();
        var logs = new LockedList<LogRecord>();
        await using var app = await NudgeTestApp.StartAsync(configure: builder =>
        {
            builder.Services.AddSingleton(new TelemetryExport(Traces: tracing => tracing.AddInMemoryExporter(spans), Logs: logging => logging.AddInMemoryExporter(logs)));
            // What the deployment exports: host.json's level (the tests' own default is Warning).
            builder.Logging.AddFilter<OpenTelemetryLoggerProvider>(null, LogLevel.Information);
        });
        var id = Interlocked.Increment(ref _nextId);
        const string callbackKey = "local-callback-key-0001"; // the local run's default
        const string linkToken = "secret-link-token-0001";

        await app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(id));
        await app.WaitForDeliveriesAsync(id.ToString(), r => r.Any(d => d.Status == "sent"), "the coupon");
        using var callback = await app.Client.PostAsync($"/api/callbacks/acs?key={callbackKey}", new StringContent("[]"));
        using var click = await app.Client.GetAsync($"/api/r/{linkToken}");
        // ASP.NET Core's spans are seen process-wide: apps of tests running beside this one serve the same routes, so
        // only this app's port counts.
        var port = app.Client.BaseAddress!.Port.ToString();
        // A sender's span ends (and is exported) just after its delivery row says sent, so it is waited for too.
        await TestStorage.EventuallyAsync(
            () => Task.FromResult(spans.Snapshot()),
            all => all.Any(s => s.Kind == ActivityKind.Server && Tag(s, "server.port") == port && Tag(s, "http.route")?.Contains("callbacks/acs") == true)
                && all.Any(s => s.Kind == ActivityKind.Server && Tag(s, "server.port") == port && Tag(s, "http.route")?.Contains("r/{token}") == true)
                && all.Any(s => Tag(s, PipelineTracing.DeliveryIdTag) is not null && Tag(s, PipelineTracing.OutcomeTag) == nameof(DeliveryHandling.Sent)),
            TimeSpan.FromSeconds(30), "the spans of the send, the callback and the click");

        // The test's own HttpClient calls are traced in this process too (root client spans): they are not the app's.
        var appSpans = spans.Snapshot().Where(s => !(s.Kind == ActivityKind.Client && s.ParentId is null)).ToList();
        var exported = string.Join("\n", appSpans.SelectMany(s => s.TagObjects.Select(t => $"{s.DisplayName} {t.Key}={t.Value}"))
            .Concat(logs.Snapshot().Select(l => $"{l.CategoryName} {l.FormattedMessage} {string.Join(",", l.Attributes ?? [])}")));
        Assert.Contains(PipelineTracing.DeliveryIdTag, exported); // the span capture works
        Assert.Contains(typeof(Functions.TriggerFunctions).FullName!, exported); // and so does the logs'
        foreach (var secret in new[] { "example.com", $"8210{id:D8}", callbackKey, linkToken, NudgeTestApp.WebhookSecret, NudgeTestApp.ApiKey })
        {
            Assert.DoesNotContain(secret, exported);
        }
    }

    private static string? Tag(Activity span, string name) => span.GetTagItem(name)?.ToString();

    private static IConfiguration Configuration(Dictionary<string, string?> settings) => new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    /// <summary>What the Azure Monitor exporter registers: its options, its processors and readers, named by its types.</summary>
    private static IEnumerable<ServiceDescriptor> AzureMonitorRegistrations(IServiceCollection services)
    {
        var assembly = typeof(AzureMonitorExporterOptions).Assembly;
        bool Its(Type? type) => type is not null && (type.Assembly == assembly || type.GenericTypeArguments.Any(Its));
        return services.Where(d => Its(d.ServiceType) || Its(d.ImplementationType) || Its(d.ImplementationInstance?.GetType()) || Its(d.ImplementationFactory?.Method.DeclaringType));
    }

    /// <summary>A list the exporters add to from the app's threads while the test reads it.</summary>
    private sealed class LockedList<T> : ICollection<T>
    {
        private readonly List<T> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<T> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(T item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(T item) => Snapshot().Contains(item);

        public void CopyTo(T[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(T item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<T> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
