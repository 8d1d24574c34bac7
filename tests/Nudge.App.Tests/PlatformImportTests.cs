using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Customers;
using Nudge.Core.Imports;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>Platform imports over HTTP and their queue function, against local stubs of the platforms' documented Admin APIs.</summary>
internal static class PlatformImport
{
    public const string WooSite = "woo-import.example";
    public const string WooCredentials = "ck_import:cs_import";

    /// <summary>The app with one shop whose Admin API is a stub; <paramref name="triggers"/> null runs every queue function.</summary>
    public static Task<NudgeTestApp> AppAsync(string platform, string domain, string adminApiUrl, string token, string? triggers = null) =>
        NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
        {
            ["Shops:0:Platform"] = platform,
            ["Shops:0:Domain"] = domain,
            ["Shops:0:WebhookSecret"] = "import-webhook-secret",
            ["Shops:0:AdminApiUrl"] = adminApiUrl,
            ["Shops:0:AdminAccessToken"] = token,
            // Reconcile's quarter-hourly timer would read the same stub beside the import and muddle what the stub counts.
            ["Nudge:LocalTriggerFunctions"] = triggers ?? "IngestBatches,JourneyEvents,EmailSender,SmsSender,KakaoSender,ImportWork",
        });

    public static async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(NudgeTestApp app, string query)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/imports?{query}");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        var response = await app.Client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadFromJsonAsync<JsonElement>());
    }

    public static async Task<JsonElement> ProgressAsync(NudgeTestApp app, string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/imports/{id}");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        return await (await app.Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
    }

    public static Task<JsonElement> CompletedAsync(NudgeTestApp app, string id) =>
        TestStorage.EventuallyAsync(() => ProgressAsync(app, id), p => p.GetProperty("status").GetString() is "completed" or "failed",
            TimeSpan.FromSeconds(90), $"import {id} to end");

    /// <summary>A WooCommerce REST API v3 customer, registered in 2021 (long ago).</summary>
    public static string WooCustomer(int id) =>
        $$"""{"id":{{id}},"billing":{"phone":"010-1234-{{id % 10000:D4}}"},"email":"woo{{id}}@example.com","first_name":"Kim","role":"customer","date_created_gmt":"2021-03-01T10:00:00","date_modified_gmt":"2021-04-01T10:00:00"}""";

    public static string WooOrder(int id, int customerId) =>
        $$"""{"id":{{id}},"status":"completed","currency":"KRW","total":"39000","customer_id":{{customerId}},"date_created_gmt":"2022-05-01T10:00:00","date_modified_gmt":"2022-05-02T10:00:00","date_paid_gmt":"2022-05-01T10:05:00","line_items":[]}""";

    /// <summary>
    /// <c>GET /wp-json/wc/v3/{customers|orders}?per_page=&amp;page=&amp;orderby=id&amp;order=asc</c> with Basic auth,
    /// <c>X-WP-Total</c> and <c>X-WP-TotalPages</c>, as WooCommerce documents them; <paramref name="answer"/> may
    /// answer a request first (a 429, a stall) by returning a result.
    /// </summary>
    public static void MapWooCommerce(WebApplication stub, IReadOnlyDictionary<string, string[]> records, ConcurrentDictionary<string, int> requests,
        Func<string, int, int, CancellationToken, Task<IResult?>>? answer = null) =>
        stub.MapGet("/wp-json/wc/v3/{resource}", async (string resource, HttpRequest request) =>
        {
            if (request.Headers.Authorization != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(WooCredentials)))
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            var perPage = int.Parse(request.Query["per_page"]!, CultureInfo.InvariantCulture);
            var page = int.Parse(request.Query["page"]!, CultureInfo.InvariantCulture);
            var attempt = requests.AddOrUpdate($"{resource}:{page}", 1, (_, n) => n + 1);
            if (answer is not null && await answer(resource, page, attempt, request.HttpContext.RequestAborted) is { } early)
            {
                return early;
            }

            Assert.Equal(("id", "asc"), (request.Query["orderby"].ToString(), request.Query["order"].ToString()));
            var all = records[resource];
            request.HttpContext.Response.Headers["X-WP-Total"] = all.Length.ToString(CultureInfo.InvariantCulture);
            request.HttpContext.Response.Headers["X-WP-TotalPages"] = ((all.Length + perPage - 1) / perPage).ToString(CultureInfo.InvariantCulture);
            return Results.Text("[" + string.Join(",", all.Skip((page - 1) * perPage).Take(perPage)) + "]", "application/json");
        });
}

public sealed class WooCommerceImportTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]>
        {
            ["customers"] = [.. Enumerable.Range(1, 150).Select(PlatformImport.WooCustomer)],
            ["orders"] = [PlatformImport.WooOrder(901, 1), PlatformImport.WooOrder(902, 1), PlatformImport.WooOrder(903, 2), PlatformImport.WooOrder(904, 0)],
        };
        (_stub, var address) = await StubApi.StartAsync(stub => PlatformImport.MapWooCommerce(stub, records, _requests, (resource, page, attempt, _) =>
            Task.FromResult<IResult?>(resource == "customers" && page == 2 && attempt == 1
                ? Results.Text("""{"code":"too_many_requests"}""", "application/json", statusCode: 429)
                : null)));
        _app = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    [Fact]
    public async Task Post_WithoutBody_ReadsEveryPageThroughA429_FoldsProfilesAndOrders_StartsNoJourney()
    {
        var (status, accepted) = await PlatformImport.PostAsync(_app, $"kind=customers&platform=woocommerce&shop={PlatformImport.WooSite}");
        var customers = await PlatformImport.CompletedAsync(_app, accepted.GetProperty("id").GetString()!);
        var (_, ordersAccepted) = await PlatformImport.PostAsync(_app, $"kind=orders&platform=woocommerce&shop={PlatformImport.WooSite}");
        var orders = await PlatformImport.CompletedAsync(_app, ordersAccepted.GetProperty("id").GetString()!);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        var first = (await profiles.GetAsync(new CustomerKey("woocommerce", "1"), CancellationToken.None))!.Value;
        var last = (await profiles.GetAsync(new CustomerKey("woocommerce", "150"), CancellationToken.None))!.Value;

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal(("platform", "completed", 150, 150, 0, 100.0), (customers.GetProperty("source").GetString(), customers.GetProperty("status").GetString(),
            customers.GetProperty("recordsRead").GetInt32(), customers.GetProperty("rowsApplied").GetInt32(), customers.GetProperty("rowsSkipped").GetInt32(), customers.GetProperty("percent").GetDouble()));
        Assert.Equal(2, _requests["customers:2"]); // the 429, then the page
        Assert.Equal(("woo1@example.com", "010-1234-0001", new DateTimeOffset(2021, 3, 1, 10, 0, 0, TimeSpan.Zero)), (first.Email, first.Phone, first.SignedUpAt!.Value));
        Assert.Equal("woo150@example.com", last.Email);
        Assert.Equal((3, 1, "guest order without a customer account"), (orders.GetProperty("rowsApplied").GetInt32(), orders.GetProperty("rowsSkipped").GetInt32(),
            orders.GetProperty("errors")[0].GetProperty("problem").GetString()));
        var buyer = (await profiles.GetAsync(new CustomerKey("woocommerce", "1"), CancellationToken.None))!.Value;
        Assert.Equal((true, 2), (buyer.HasOrdered, buyer.Orders.Count));

        await _app.WaitForQueuesToDrainAsync();
        Assert.Empty(await _app.DeliveriesAsync("1")); // customers who signed up long ago get no welcome
    }

    [Fact]
    public async Task Post_AgainWhileDoneOrRunning_SameImportId_NothingCountedTwice()
    {
        var query = $"kind=orders&platform=woocommerce&shop={PlatformImport.WooSite}";
        var (_, first) = await PlatformImport.PostAsync(_app, query);
        var id = first.GetProperty("id").GetString()!;
        await PlatformImport.CompletedAsync(_app, id);
        var (again, second) = await PlatformImport.PostAsync(_app, query);
        var rerun = await PlatformImport.CompletedAsync(_app, second.GetProperty("id").GetString()!);
        var buyer = (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey("woocommerce", "1"), CancellationToken.None))!.Value;

        Assert.Equal((HttpStatusCode.Accepted, id), (again, second.GetProperty("id").GetString()));
        Assert.Equal((4, 3), (rerun.GetProperty("recordsRead").GetInt32(), rerun.GetProperty("rowsApplied").GetInt32()));
        Assert.Equal(2, buyer.Orders.Count); // the same orders read twice count once
    }

    [Theory]
    [InlineData("kind=customers&platform=web&shop=woo-import.example")]
    [InlineData("kind=customers&platform=shopify&shop=woo-import.example")]
    [InlineData("kind=customers&platform=woocommerce&shop=other.example")]
    public async Task Post_WithoutBody_PlatformOrShopNotConfigured_Is400(string query)
    {
        var (status, problem) = await PlatformImport.PostAsync(_app, query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Cannot import from the platform", problem.GetProperty("title").GetString());
    }
}

/// <summary>A platform import stopped mid-slice (the worker's token cancelled while a page is being read) and run again: it goes on from the saved page.</summary>
public sealed class PlatformImportResumeTests : IAsyncLifetime
{
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]> { ["customers"] = [.. Enumerable.Range(1, 250).Select(PlatformImport.WooCustomer)], ["orders"] = [] };
        (_stub, var address) = await StubApi.StartAsync(stub => PlatformImport.MapWooCommerce(stub, records, _requests, async (resource, page, attempt, aborted) =>
        {
            if (page == 3 && attempt == 1)
            {
                _stalled.SetResult();
                await Task.Delay(Timeout.Infinite, aborted); // until the "crash" below drops the request
            }

            return null;
        }));
        // No ImportWork trigger: the test runs the slices itself.
        _app = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials,
            triggers: "IngestBatches,JourneyEvents");
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    [Fact]
    public async Task RunSlice_CrashedWhileReadingPage3_ResumesFromPage3_CountsMatchNoDuplicates()
    {
        var (_, accepted) = await PlatformImport.PostAsync(_app, $"kind=customers&platform=woocommerce&shop={PlatformImport.WooSite}");
        var id = accepted.GetProperty("id").GetString()!;
        var handler = _app.Services.GetRequiredService<ImportHandler>();

        using var crash = new CancellationTokenSource();
        var slice = handler.RunSliceAsync(id, crash.Token);
        await _stalled.Task;
        await crash.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slice);
        var atCrash = await PlatformImport.ProgressAsync(_app, id);
        var resumed = await handler.RunSliceAsync(id, CancellationToken.None);

        Assert.Equal(("running", 200, 200, 250), (atCrash.GetProperty("status").GetString(), atCrash.GetProperty("recordsRead").GetInt32(),
            atCrash.GetProperty("rowsApplied").GetInt32(), atCrash.GetProperty("recordsExpected").GetInt32()));
        Assert.True(atCrash.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number);
        Assert.Equal((ImportStatus.Completed, 250, 250, 0L), (resumed!.Status, resumed.RecordsRead, resumed.Applied, resumed.Skipped));
        Assert.Equal((1, 1, 2), (_requests["customers:1"], _requests["customers:2"], _requests["customers:3"])); // pages read before the crash were not read again
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        Assert.Equal("woo250@example.com", (await profiles.GetAsync(new CustomerKey("woocommerce", "250"), CancellationToken.None))!.Value.Email);
    }
}
