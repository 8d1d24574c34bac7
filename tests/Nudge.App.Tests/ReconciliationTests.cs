using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nudge.Core.Customers;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// A stub of Shopify's Admin REST API on 127.0.0.1 (customers.json and orders.json, filtered by updated_at_min/max,
/// paginated through Link headers, guarded by X-Shopify-Access-Token), and the app's Reconcile timer function run
/// against it through the custom-handler invocation the Functions host would make.
/// </summary>
public sealed class ReconciliationTests : IAsyncLifetime
{
    private const string Shop = "recon-shop.myshopify.com";
    private const string Secret = "recon-webhook-secret";
    private const string Token = "shpat_test_token";

    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;

    public int AdminCalls { get; private set; }

    private string Customer(long id, DateTimeOffset created, DateTimeOffset updated, string email) =>
        $$"""{"id":{{id}},"email":"{{email}}","first_name":"R","created_at":"{{created:O}}","updated_at":"{{updated:O}}","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":null}""";

    public async Task InitializeAsync()
    {
        var hourAgo = _now.AddHours(-1);
        var customers = new[]
        {
            (Json: Customer(4001, hourAgo, hourAgo, "lost@example.com"), Updated: hourAgo),           // its webhook was lost
            (Json: Customer(4002, hourAgo, hourAgo, "known@example.com"), Updated: hourAgo),          // its webhook arrived
            (Json: Customer(4003, _now.AddYears(-1), hourAgo, "changed@example.com"), Updated: hourAgo), // old customer, lost update
            (Json: Customer(4004, _now.AddDays(-30), _now.AddDays(-30), "old@example.com"), Updated: _now.AddDays(-30)), // outside the window
        };
        var orders = new[] { (Json: $$$"""{"id":9001,"created_at":"{{{hourAgo:O}}}","updated_at":"{{{hourAgo:O}}}","currency":"KRW","total_price":"10000","customer":{"id":4001}}""", Updated: hourAgo) };

        (_stub, var stubAddress) = await StubApi.StartAsync(stub => stub.MapGet("/admin/api/2025-10/{resource}.json", (string resource, HttpRequest request) =>
        {
            AdminCalls++;
            if (request.Headers["X-Shopify-Access-Token"] != Token)
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            var min = DateTimeOffset.Parse(request.Query["updated_at_min"]!);
            var max = DateTimeOffset.Parse(request.Query["updated_at_max"]!);
            var all = (resource == "customers" ? customers : orders).Where(r => r.Updated >= min && r.Updated <= max).Select(r => r.Json).ToList();
            var page = request.Query["page_info"] == "2" ? 1 : 0; // two records a page
            var items = all.Skip(page * 2).Take(2);
            if (page == 0 && all.Count > 2)
            {
                request.HttpContext.Response.Headers["Link"] = $"<{request.Scheme}://{request.Host}{request.Path}?limit=2&page_info=2&updated_at_min={Uri.EscapeDataString(min.ToString("O"))}&updated_at_max={Uri.EscapeDataString(max.ToString("O"))}>; rel=\"next\"";
            }

            return Results.Text($"{{\"{resource}\":[{string.Join(",", items)}]}}", "application/json");
        }));

        _app = await StubApi.AppWithShopAsync("shopify", Shop, Secret, $"{stubAddress}/admin/api/2025-10", Token);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    private Task RunReconcileAsync() => StubApi.RunReconcileAsync(_app);

    private async Task<CustomerProfile?> ProfileAsync(long id) =>
        (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey("shopify", id.ToString()), CancellationToken.None))?.Value;

    [Fact]
    public async Task Reconcile_FillsLostSignupsOrdersAndUpdates_OnceAcrossRuns()
    {
        var known = IngestSourcesTests.Shopify(Shop, Secret, "customers/create", Customer(4002, _now.AddHours(-1), _now.AddHours(-1), "known@example.com"));
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(known)).StatusCode);
        await TestStorage.EventuallyAsync(() => ProfileAsync(4002), p => p is not null, TimeSpan.FromSeconds(20), "known profile");

        await RunReconcileAsync();

        // The signup and the order are handled concurrently, in either order: wait until both are folded.
        var lost = await TestStorage.EventuallyAsync(() => ProfileAsync(4001),
            p => p is not null && p.HasOrdered && p.LastEventAt.TryGet(Core.Events.EventTypes.CustomerSignedUp, out _), TimeSpan.FromSeconds(20), "lost signup and order filled");
        Assert.Equal("lost@example.com", lost!.Email);
        var changed = await TestStorage.EventuallyAsync(() => ProfileAsync(4003), p => p is not null, TimeSpan.FromSeconds(20), "lost update filled");
        Assert.Equal(("changed@example.com", (DateTimeOffset?)null), (changed!.Email, changed.SignedUpAt)); // an old customer's update is not a signup
        Assert.Null(await ProfileAsync(4004));
        await _app.WaitForDeliveriesAsync("4001", r => r.Count == 1, "welcome coupon for the filled signup");

        var eventsBefore = await EventCountAsync();
        await RunReconcileAsync();
        Assert.Equal(eventsBefore, await EventCountAsync());
        Assert.True(AdminCalls >= 4);
    }

    private async Task<int> EventCountAsync() =>
        await TestStorage.Clients().Tables.GetTableClient(_app.Names.Events).QueryAsync<Azure.Data.Tables.TableEntity>().CountAsync();
}

/// <summary>
/// A busy shop: Shopify's Admin API stub answers any window longer than a day with page after page (more than a read
/// takes); shorter windows answer with their records. The reconciler must read the busy window in parts rather than
/// move its cursor past records it never read.
/// </summary>
public sealed class BusyShopReconciliationTests : IAsyncLifetime
{
    private const string Shop = "busy-shop.myshopify.com";
    private const string Token = "shpat_busy_token";

    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;
    private int _adminCalls;

    public async Task InitializeAsync()
    {
        var hourAgo = _now.AddHours(-1);
        var lost = $$"""{"id":4101,"email":"busy@example.com","first_name":"B","created_at":"{{hourAgo:O}}","updated_at":"{{hourAgo:O}}","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":null}""";
        (_stub, var address) = await StubApi.StartAsync(stub => stub.MapGet("/admin/api/2025-10/{resource}.json", (string resource, HttpRequest request) =>
        {
            Interlocked.Increment(ref _adminCalls);
            var min = DateTimeOffset.Parse(request.Query["updated_at_min"]!);
            var max = DateTimeOffset.Parse(request.Query["updated_at_max"]!);
            if (max - min > TimeSpan.FromDays(1))
            {
                // Pages without end (and without the record, so nothing is filled by a read that does not finish).
                request.HttpContext.Response.Headers["Link"] = $"<{request.Scheme}://{request.Host}{request.Path}{request.QueryString}>; rel=\"next\"";
                return Results.Text($"{{\"{resource}\":[]}}", "application/json");
            }

            var inWindow = resource == "customers" && hourAgo >= min && hourAgo <= max;
            return Results.Text($"{{\"{resource}\":[{(inWindow ? lost : "")}]}}", "application/json");
        }));
        _app = await StubApi.AppWithShopAsync("shopify", Shop, "busy-webhook-secret", $"{address}/admin/api/2025-10", Token);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    [Fact]
    public async Task Reconcile_WindowWithMoreRecordsThanARead_ReadInPartsAndTheLostSignupFilled()
    {
        await StubApi.RunReconcileAsync(_app);

        var profile = await TestStorage.EventuallyAsync(
            async () => (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey("shopify", "4101"), CancellationToken.None))?.Value,
            p => p is not null, TimeSpan.FromSeconds(20), "the signup in the busy window");
        Assert.Equal("busy@example.com", profile!.Email);
        // Three-day first window: itself and its two halves overflow (200 pages each, per resource), then quarters read.
        Assert.InRange(_adminCalls, 2 * 3 * Nudge.App.Reconciliation.ShopifyAdminClient.MaxPages, 2 * ((3 * Nudge.App.Reconciliation.ShopifyAdminClient.MaxPages) + 8));
    }
}

/// <summary>Two shops, the first with a revoked token: its failure does not keep the second from being reconciled.</summary>
public sealed class ReconcileShopFailureTests : IAsyncLifetime
{
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private readonly List<string> _tokensSeen = [];
    private readonly CapturingLoggerProvider _logs = new();
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        var hourAgo = _now.AddHours(-1);
        var lost = $$"""{"id":4201,"email":"second@example.com","first_name":"S","created_at":"{{hourAgo:O}}","updated_at":"{{hourAgo:O}}","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":null}""";
        (_stub, var address) = await StubApi.StartAsync(stub => stub.MapGet("/{shop}/admin/api/2025-10/{resource}.json", (string shop, string resource, HttpRequest request) =>
        {
            lock (_tokensSeen)
            {
                _tokensSeen.Add(request.Headers["X-Shopify-Access-Token"].ToString());
            }

            return request.Headers["X-Shopify-Access-Token"] == "shpat_valid"
                ? Results.Text($"{{\"{resource}\":[{(resource == "customers" ? lost : "")}]}}", "application/json")
                : Results.StatusCode(StatusCodes.Status401Unauthorized);
        }));
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Shops:0:Platform"] = "shopify",
            ["Shops:0:Domain"] = "revoked-shop.myshopify.com",
            ["Shops:0:WebhookSecret"] = "revoked-webhook-secret",
            ["Shops:0:AdminApiUrl"] = $"{address}/revoked/admin/api/2025-10",
            ["Shops:0:AdminAccessToken"] = "shpat_revoked",
            ["Shops:1:Platform"] = "shopify",
            ["Shops:1:Domain"] = "second-shop.myshopify.com",
            ["Shops:1:WebhookSecret"] = "second-webhook-secret",
            ["Shops:1:AdminApiUrl"] = $"{address}/second/admin/api/2025-10",
            ["Shops:1:AdminAccessToken"] = "shpat_valid",
            ["Nudge:LocalTriggerFunctions"] = "IngestBatches,JourneyEvents",
        }, configure: builder => builder.Logging.AddProvider(_logs));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    [Fact]
    public async Task Reconcile_OneShopsTokenRevoked_TheOtherShopIsStillFilled_AndTheFailureIsLoggedWithoutTheToken()
    {
        await StubApi.RunReconcileAsync(_app);

        var profile = await TestStorage.EventuallyAsync(
            async () => (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey("shopify", "4201"), CancellationToken.None))?.Value,
            p => p is not null, TimeSpan.FromSeconds(20), "the second shop's lost signup");
        Assert.Equal("second@example.com", profile!.Email);
        Assert.Contains("shpat_revoked", _tokensSeen); // the revoked shop was tried first, and failed
        var warning = Assert.Single(_logs.Lines, l => l.Contains("revoked-shop.myshopify.com", StringComparison.Ordinal) && l.Contains("failed", StringComparison.Ordinal));
        Assert.Contains("HTTP 401", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("shpat_", warning, StringComparison.Ordinal);
    }
}

/// <summary>A platform API stub on 127.0.0.1 (random port).</summary>
internal static class StubApi
{
    public static async Task<(WebApplication App, string Address)> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        return (app, app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    /// <summary>The app with one shop whose Admin API is a stub.</summary>
    public static Task<NudgeTestApp> AppWithShopAsync(string platform, string domain, string webhookSecret, string adminApiUrl, string adminAccessToken) =>
        NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Shops:0:Platform"] = platform,
            ["Shops:0:Domain"] = domain,
            ["Shops:0:WebhookSecret"] = webhookSecret,
            ["Shops:0:AdminApiUrl"] = adminApiUrl,
            ["Shops:0:AdminAccessToken"] = adminAccessToken,
            // The tests run Reconcile themselves: the app's own quarter-hourly timer firing beside a test's run would make
            // two runs at once, and what the tests count nondeterministic.
            ["Nudge:LocalTriggerFunctions"] = "IngestBatches,JourneyEvents,EmailSender,SmsSender,KakaoSender",
        });

    /// <summary>Runs the Reconcile timer function once, as the Functions host invokes it on its schedule.</summary>
    public static Task RunReconcileAsync(NudgeTestApp app) => app.InvokeAsync("Reconcile", new Microsoft.Azure.Functions.Worker.TimerInfo());
}

/// <summary>WooCommerce's REST API v3 stubbed: orders by modified window, customers newest first, Basic auth, X-WP-TotalPages.</summary>
public sealed class WooCommerceReconciliationTests : IAsyncLifetime
{
    private const string Site = "woo-recon.example";
    private const string Credentials = "ck_test:cs_test";
    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;

    private static string Gmt(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    public async Task InitializeAsync()
    {
        var hourAgo = _now.AddHours(-1);
        var customers = new[] // newest registered first, as asked
        {
            $$$"""{"id":61,"email":"new@example.com","date_created_gmt":"{{{Gmt(hourAgo)}}}","date_modified_gmt":"{{{Gmt(hourAgo)}}}"}""",
            $$$"""{"id":60,"email":"old@example.com","date_created_gmt":"{{{Gmt(_now.AddDays(-40))}}}","date_modified_gmt":"{{{Gmt(_now.AddDays(-40))}}}"}""",
        };
        var order = $$$"""{"id":700,"status":"processing","currency":"KRW","total":"5000","customer_id":61,"date_created_gmt":"{{{Gmt(hourAgo)}}}","date_modified_gmt":"{{{Gmt(hourAgo)}}}","line_items":[]}""";
        (_stub, var address) = await StubApi.StartAsync(stub => stub.MapGet("/wp-json/wc/v3/{resource}", (string resource, HttpRequest request) =>
        {
            if (request.Headers.Authorization != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(Credentials)))
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            var page = int.Parse(request.Query["page"]!, System.Globalization.CultureInfo.InvariantCulture);
            request.HttpContext.Response.Headers["X-WP-TotalPages"] = resource == "customers" ? "2" : "1";
            var items = resource == "customers" ? [customers[page - 1]] : DateTimeOffset.Parse(request.Query["modified_after"]! + "Z") < hourAgo ? new[] { order } : [];
            return Results.Text("[" + string.Join(",", items) + "]", "application/json");
        }));
        _app = await StubApi.AppWithShopAsync("woocommerce", Site, "woo-recon-secret", $"{address}/wp-json/wc/v3", Credentials);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    [Fact]
    public async Task Reconcile_FillsALostWooCommerceSignupAndOrder_NotOldCustomers()
    {
        await StubApi.RunReconcileAsync(_app);

        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        var filled = await TestStorage.EventuallyAsync(() => profiles.GetAsync(new CustomerKey("woocommerce", "61"), CancellationToken.None),
            p => p is { Value: { HasOrdered: true } profile } && profile.LastEventAt.TryGet(Core.Events.EventTypes.CustomerSignedUp, out _),
            TimeSpan.FromSeconds(20), "lost WooCommerce signup and order");
        Assert.Equal("new@example.com", filled!.Value.Email);
        Assert.Null(await profiles.GetAsync(new CustomerKey("woocommerce", "60"), CancellationToken.None));
    }
}
