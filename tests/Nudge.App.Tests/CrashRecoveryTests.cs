using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Nudge.Core.Ingest;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The local run as users start it (the app's own executable, Azurite, providers stubbed on 127.0.0.1), killed with
/// SIGKILL in the middle of journeys and started again: every acknowledged webhook takes effect, no message goes out
/// twice, and an order acknowledged before the crash still stops its customer's day-2 SMS.
/// </summary>
public sealed class CrashRecoveryTests : IAsyncLifetime
{
    /// <summary>
    /// Two virtual days in 40 real seconds: the restart falls mid-wait, and so does the moment the messages the killed
    /// process held come back (their 15-second leases lapse) and the task hub's partitions are taken over.
    /// </summary>
    private const double ClockSpeed = 2 * 86400 / 40.0;

    private readonly string _prefix = TestStorage.NewPrefix();
    private ProviderStubs _stubs = null!;

    public async Task InitializeAsync() => _stubs = await ProviderStubs.StartAsync();

    public async Task DisposeAsync() => await _stubs.DisposeAsync();

    [Fact]
    public async Task KilledMidJourney_Restarted_EveryAcknowledgedWebhookTakesEffectOnce_AndOrdersStillStopTheSms()
    {
        var signups = Enumerable.Range(0, 6).Select(i => 9_300_000L + (Random.Shared.Next(100_000) * 10) + i).ToList();
        var ordered = signups.Where((_, i) => i % 2 == 0).ToHashSet();

        var first = await AppProcess.StartAsync(Settings());
        foreach (var id in signups)
        {
            Assert.Equal(HttpStatusCode.OK, (await first.PostWebhookAsync("customers/create", NudgeTestApp.Customer(id))).StatusCode);
        }

        // The coupons are out and the day-2 timers wait (an order handled before its customer's welcome started would
        // rightly start none): now the orders arrive, and the process dies before all of them are handled.
        await TestStorage.EventuallyAsync(() => Task.FromResult(_stubs.AcceptedOn("email").Count()), n => n == signups.Count, TimeSpan.FromSeconds(60), "every coupon");
        foreach (var id in ordered)
        {
            Assert.Equal(HttpStatusCode.OK, (await first.PostWebhookAsync("orders/create", NudgeTestApp.Order(id * 10, id))).StatusCode);
        }

        first.Kill();
        await using var second = await AppProcess.StartAsync(Settings());

        foreach (var id in signups)
        {
            var expected = ordered.Contains(id) ? 1 : 2;
            List<DeliveryRow> rows = [];
            try
            {
                rows = await TestStorage.EventuallyAsync(() => second.DeliveriesAsync(id),
                    r => r.Count == expected && r.All(d => d.Status == "sent"), TimeSpan.FromSeconds(180), $"customer {id}'s {expected} deliveries after the restart");
            }
            catch (TimeoutException e)
            {
                var seen = string.Join(", ", (await second.DeliveriesAsync(id)).Select(r => $"{r.Template} {r.Status}"));
                throw new TimeoutException($"{e.Message} Seen: [{seen}]; journeys: {await second.JourneysAsync(id)}", e);
            }

            Assert.Equal(expected == 2 ? ["welcome-coupon", "welcome-day2"] : ["welcome-coupon"], rows.Select(r => r.Template));
        }

        foreach (var id in ordered)
        {
            // An ended instance sends nothing more: the order stopped the SMS for good, not just so far.
            var journeys = await TestStorage.EventuallyAsync(() => second.JourneysAsync(id),
                j => j.Contains("\"goal: order.placed\"", StringComparison.Ordinal), TimeSpan.FromSeconds(120), $"customer {id}'s order to end the welcome");
            Assert.Contains("\"exited\"", journeys);
        }

        // Exactly once at the providers: one coupon per address, one SMS per customer who did not order.
        Assert.All(signups, id => Assert.Single(_stubs.AcceptedOn("email"), e => e.ToJsonString().Contains($"c{id}@example.com", StringComparison.Ordinal)));
        Assert.All(signups, id => Assert.Equal(ordered.Contains(id) ? 0 : 1,
            _stubs.AcceptedOn("solapi").Count(m => m["to"]!.GetValue<string>().EndsWith($"{id:D8}", StringComparison.Ordinal))));
    }

    private Dictionary<string, string> Settings() => new()
    {
        ["AzureWebJobsStorage"] = TestStorage.ConnectionString,
        ["Nudge__Storage__Prefix"] = _prefix,
        ["Shopify__WebhookSecret"] = NudgeTestApp.WebhookSecret,
        ["Nudge__MarketerApiKey"] = NudgeTestApp.ApiKey,
        ["Nudge__DefaultTimeZone"] = "Asia/Seoul",
        ["NUDGE_CLOCK_SPEED"] = ClockSpeed.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Nudge__Email__ConnectionString"] = _stubs.AcsConnectionString,
        ["Nudge__Email__SenderAddress"] = "DoNotReply@shop.example",
        ["Nudge__Email__RateLimits"] = "100/1s",
        ["Nudge__Sms__Provider"] = "solapi",
        ["Nudge__Solapi__BaseUrl"] = _stubs.BaseAddress.ToString(),
        ["Nudge__Solapi__ApiKey"] = ProviderStubs.SolapiKey,
        ["Nudge__Solapi__ApiSecret"] = ProviderStubs.SolapiSecret,
        ["Nudge__Solapi__SenderNumber"] = "02-1234-5678",
        ["Nudge__Channels__SenderName"] = "테스트샵",
        ["Nudge__Channels__OptOutNumber"] = "080-123-4567",
        ["Nudge__Channels__PublicBaseUrl"] = "https://shop.example",
        ["Nudge__Channels__LinkSecret"] = "crash-link-secret-0001",
        ["Nudge__Channels__CallbackKey"] = "crash-callback-key-0001",
        ["Logging__LogLevel__Default"] = "Warning",
    };

    /// <summary>The app's executable in a process of its own, as <c>scripts/run-local.sh</c> starts it.</summary>
    private sealed class AppProcess : IAsyncDisposable
    {
        private static readonly object LogGate = new();

        private readonly Process _process;
        private readonly HttpClient _client;

        private AppProcess(Process process, Uri address)
        {
            _process = process;
            _client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(30) };
        }

        public static async Task<AppProcess> StartAsync(Dictionary<string, string> settings)
        {
            var port = FreePort();
            var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "Nudge.App.dll"), "--urls", $"http://127.0.0.1:{port}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            foreach (var (key, value) in settings)
            {
                start.Environment[key] = value;
            }

            var process = Process.Start(start)!;
            // The app's own log, kept for a failing run to show (warnings and errors only, by its settings).
            var log = Path.Combine(Path.GetTempPath(), $"nudge-crash-test-{port}.log");
            process.OutputDataReceived += (_, line) => { if (line.Data is { } text) { lock (LogGate) { File.AppendAllText(log, text + "\n"); } } };
            process.ErrorDataReceived += (_, line) => { if (line.Data is { } text) { lock (LogGate) { File.AppendAllText(log, text + "\n"); } } };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}"));
            await TestStorage.EventuallyAsync(app.HealthyAsync, healthy => healthy || process.HasExited, TimeSpan.FromSeconds(60), "the app to answer /api/health");
            Assert.False(process.HasExited, $"the app exited with {(process.HasExited ? process.ExitCode : 0)}");
            return app;
        }

        private async Task<bool> HealthyAsync()
        {
            try
            {
                return (await _client.GetAsync("/api/health")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }

        public Task<HttpResponseMessage> PostWebhookAsync(string topic, string body)
        {
            var bytes = Encoding.UTF8.GetBytes(body);
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/shopify") { Content = new ByteArrayContent(bytes) };
            request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            request.Headers.Add("X-Shopify-Topic", topic);
            request.Headers.Add("X-Shopify-Shop-Domain", "test-shop.myshopify.com");
            request.Headers.Add("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
            request.Headers.Add("X-Shopify-Hmac-Sha256", WebhookSignature.Compute(bytes, Encoding.UTF8.GetBytes(NudgeTestApp.WebhookSecret)));
            return _client.SendAsync(request);
        }

        public async Task<List<DeliveryRow>> DeliveriesAsync(long customerId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/deliveries?platform=shopify&customerId={customerId}");
            request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
            using var response = await _client.SendAsync(request);
            response.EnsureSuccessStatusCode();
            return (await response.Content.ReadFromJsonAsync<List<DeliveryRow>>())!.OrderBy(r => r.ScheduledFor).ToList();
        }

        public async Task<string> JourneysAsync(long customerId)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/customers/shopify/{customerId}/journeys");
            request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
            using var response = await _client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }

        /// <summary>SIGKILL: no shutdown, no lease released, nothing flushed.</summary>
        public void Kill()
        {
            _process.Kill();
            _process.WaitForExit();
        }

        public async ValueTask DisposeAsync()
        {
            _client.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
