using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using System.Text;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>The real app on Kestrel at 127.0.0.1 (random port) over Azurite, with its local trigger driver running.</summary>
public sealed class NudgeTestApp : IAsyncDisposable
{
    public const string WebhookSecret = "test-shopify-secret";
    public const string ApiKey = "test-marketer-api-key-0001";

    private readonly WebApplication _app;

    private NudgeTestApp(WebApplication app, string prefix, Uri baseAddress)
    {
        _app = app;
        Prefix = prefix;
        Client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Prefix { get; }
    public HttpClient Client { get; }

    /// <summary>The app's services, to run a handler directly where waiting for its trigger would take real minutes.</summary>
    public IServiceProvider Services => _app.Services;
    public StorageNames Names => new(Prefix);

    public IEnumerable<Microsoft.AspNetCore.Http.Endpoint> Endpoints =>
        _app.Services.GetRequiredService<Microsoft.AspNetCore.Routing.EndpointDataSource>().Endpoints;

    public static async Task<NudgeTestApp> StartAsync(double clockSpeed = 1, string? prefix = null, IReadOnlyDictionary<string, string?>? settings = null, Action<WebApplicationBuilder>? configure = null)
    {
        prefix ??= TestStorage.NewPrefix();
        var app = await NudgeApp.BuildAsync([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["urls"] = "http://127.0.0.1:0",
            ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
            ["Nudge:Storage:Prefix"] = prefix,
            ["Shopify:WebhookSecret"] = WebhookSecret,
            ["Nudge:MarketerApiKey"] = ApiKey,
            ["Nudge:DefaultTimeZone"] = "Asia/Seoul",
            [NudgeApp.ClockSpeedSetting] = clockSpeed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        });
            configure?.Invoke(builder);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new NudgeTestApp(app, prefix, new Uri(address));
    }

    /// <summary>
    /// Waits until every pipeline and delivery queue of this app is empty, messages in flight included: what a test
    /// asserts did not happen had its chance to (instead of a fixed sleep). Journeys waiting for timers are not work
    /// in flight; a test that needs one to be done waits for its instance to end.
    /// </summary>
    /// <param name="deliveries">Also the delivery queues (off for an app whose tests run no delivery workers).</param>
    /// <summary>
    /// Waits until every queue of the app is empty, hidden messages included. The default outlasts the delivery claim
    /// (2 minutes): a copy of a delivery that met another copy's live claim waits that long, hidden, in case the
    /// claim's holder died, and is then dropped as done. (The wait ends as soon as the queues are empty.)
    /// </summary>
    public Task WaitForQueuesToDrainAsync(bool deliveries = true, double seconds = 150)
    {
        var queues = StorageNames.PipelineQueues.Select(Names.Queue).Concat(deliveries ? Core.Delivery.ChannelNames.All.Select(Names.DeliveryQueue) : [])
            .Select(name => TestStorage.Clients().Queues.GetQueueClient(name)).ToList();
        return TestStorage.EventuallyAsync(
            async () =>
            {
                var counts = await Task.WhenAll(queues.Select(async q => (await q.ExistsAsync()).Value ? (await q.GetPropertiesAsync()).Value.ApproximateMessagesCount : 0));
                return counts.Sum();
            },
            left => left == 0, TimeSpan.FromSeconds(seconds), "the app's queues to drain");
    }

    /// <summary>Runs a queue or timer function once with the given trigger value, as the Functions host would invoke it.</summary>
    public Task InvokeAsync(string functionName, object trigger) =>
        LocalFunctionHost.InvokeTriggerAsync(_app.Services, FunctionCatalog.Default.Functions.Single(f => f.Name == functionName), trigger, CancellationToken.None);

    public Task<HttpResponseMessage> PostWebhookAsync(string topic, string body, string? webhookId = null, string? signature = null, string contentType = "application/json")
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shopify") { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        request.Headers.Add("X-Shopify-Topic", topic);
        request.Headers.Add("X-Shopify-Shop-Domain", "test-shop.myshopify.com");
        request.Headers.Add("X-Shopify-Webhook-Id", webhookId ?? Guid.NewGuid().ToString());
        if (signature != "")
        {
            request.Headers.Add("X-Shopify-Hmac-Sha256", signature ?? WebhookSignature.Compute(bytes, Encoding.UTF8.GetBytes(WebhookSecret)));
        }

        return Client.SendAsync(request);
    }

    public async Task<List<DeliveryRow>> DeliveriesAsync(string customerId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/deliveries?platform=shopify&customerId={customerId}");
        request.Headers.Add("x-api-key", ApiKey);
        using var response = await Client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<List<DeliveryRow>>())!;
    }

    public Task<List<DeliveryRow>> WaitForDeliveriesAsync(string customerId, Func<List<DeliveryRow>, bool> condition, string what, double seconds = 60) =>
        TestStorage.EventuallyAsync(() => DeliveriesAsync(customerId), condition, TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Settings that send email through the ACS stub, with the channel settings every provider needs.</summary>
    public static Dictionary<string, string?> EmailThrough(ProviderStubs stubs) => new()
    {
        ["Nudge:Email:ConnectionString"] = stubs.AcsConnectionString,
        ["Nudge:Email:SenderAddress"] = "DoNotReply@shop.example",
        ["Nudge:Email:RateLimits"] = "100/1s",
        ["Nudge:Channels:SenderName"] = "테스트샵",
        ["Nudge:Channels:OptOutNumber"] = "080-123-4567",
        ["Nudge:Channels:PublicBaseUrl"] = "https://shop.example",
        ["Nudge:Channels:LinkSecret"] = "e2e-link-secret-0001",
        ["Nudge:Channels:CallbackKey"] = "e2e-callback-key-0001",
    };

    public static string Customer(long id, string createdAt = "2026-11-24T10:00:00+09:00", string sms = "subscribed") =>
        $$$"""{"id":{{{id}}},"email":"c{{{id}}}@example.com","phone":"+8210{{{id:D8}}}","first_name":"Test","created_at":"{{{createdAt}}}","updated_at":"{{{createdAt}}}","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":{"state":"{{{sms}}}"}}""";

    public static string Order(long orderId, long customerId) =>
        $$$"""{"id":{{{orderId}}},"created_at":"2026-11-24T11:00:00+09:00","total_price":"39000","currency":"KRW","customer":{"id":{{{customerId}}}}}""";
}

public sealed record DeliveryRow(string Channel, string Template, string Status, DateTimeOffset ScheduledFor, DateTimeOffset? SentAt, string Journey, string DeliveryId, string? Reason);
