using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Customers;
using Nudge.Core.Imports;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>Tests of the app against a local stub of a platform's API: the class starts both and disposes both after its tests.</summary>
public abstract class StubbedAppTests : IAsyncLifetime
{
    protected WebApplication Stub { get; set; } = null!;

    protected NudgeTestApp App { get; set; } = null!;

    public abstract Task InitializeAsync();

    public async Task DisposeAsync()
    {
        await App.DisposeAsync();
        await Stub.DisposeAsync();
    }
}

/// <summary>Platform imports over HTTP and their queue function, against local stubs of the platforms' documented Admin APIs.</summary>
internal static class PlatformImport
{
    public const string WooSite = "woo-import.example";
    public const string WooCredentials = "ck_import:cs_import";

    /// <summary>The app with one shop whose Admin API is a stub; <paramref name="triggers"/> null runs every queue function.</summary>
    public static Task<NudgeTestApp> AppAsync(string platform, string domain, string adminApiUrl, string token, string? triggers = null,
        IReadOnlyDictionary<string, string?>? more = null) =>
        NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>(more ?? new Dictionary<string, string?>())
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

    /// <summary>Imports the shop's customers, then its orders, from its platform: the first answer's status and both imports as they ended.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Customers, JsonElement Orders)> ImportCustomersThenOrdersAsync(NudgeTestApp app, string platform, string shop)
    {
        var (status, customers) = await PostAsync(app, $"kind=customers&platform={platform}&shop={shop}");
        var customersEnded = await CompletedAsync(app, customers.GetProperty("id").GetString()!);
        var (_, orders) = await PostAsync(app, $"kind=orders&platform={platform}&shop={shop}");
        return (status, customersEnded, await CompletedAsync(app, orders.GetProperty("id").GetString()!));
    }

    public static Task<JsonElement> CompletedAsync(NudgeTestApp app, string id) =>
        TestStorage.EventuallyAsync(() => ProgressAsync(app, id), p => p.GetProperty("status").GetString() is "completed" or "failed",
            TimeSpan.FromSeconds(90), $"import {id} to end");

    /// <summary>
    /// Starts an import, runs its slice until <paramref name="stalled"/> (the stub holding a read), then cancels it as a
    /// crash would end it, and runs the slice again: the progress saved at the crash, and the state the rerun ends in.
    /// </summary>
    public static async Task<(JsonElement AtCrash, ImportState? Resumed)> CrashThenResumeAsync(NudgeTestApp app, string query, Task stalled)
    {
        var (_, accepted) = await PostAsync(app, query);
        var id = accepted.GetProperty("id").GetString()!;
        var handler = app.Services.GetRequiredService<ImportHandler>();
        using var crash = new CancellationTokenSource();
        var slice = handler.RunSliceAsync(id, crash.Token);
        await stalled;
        await crash.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slice);
        return (await ProgressAsync(app, id), await handler.RunSliceAsync(id, CancellationToken.None));
    }

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

public sealed class WooCommerceImportTests : StubbedAppTests
{
    private readonly ConcurrentDictionary<string, int> _requests = new();

    public override async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]>
        {
            ["customers"] = [.. Enumerable.Range(1, 150).Select(PlatformImport.WooCustomer)],
            ["orders"] = [PlatformImport.WooOrder(901, 1), PlatformImport.WooOrder(902, 1), PlatformImport.WooOrder(903, 2), PlatformImport.WooOrder(904, 0)],
        };
        (Stub, var address) = await StubApi.StartAsync(stub => PlatformImport.MapWooCommerce(stub, records, _requests, (resource, page, attempt, _) =>
            Task.FromResult<IResult?>(resource == "customers" && page == 2 && attempt == 1
                ? Results.Text("""{"code":"too_many_requests"}""", "application/json", statusCode: 429)
                : null)));
        App = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials);
    }

    [Fact]
    public async Task Post_WithoutBody_ReadsEveryPageThroughA429_FoldsProfilesAndOrders_StartsNoJourney()
    {
        var (status, customers, orders) = await PlatformImport.ImportCustomersThenOrdersAsync(App, "woocommerce", PlatformImport.WooSite);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);
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

        await App.WaitForQueuesToDrainAsync();
        Assert.Empty(await App.DeliveriesAsync("1")); // customers who signed up long ago get no welcome
    }

    [Fact]
    public async Task Post_AgainWhileDoneOrRunning_SameImportId_NothingCountedTwice()
    {
        var query = $"kind=orders&platform=woocommerce&shop={PlatformImport.WooSite}";
        var (_, first) = await PlatformImport.PostAsync(App, query);
        var id = first.GetProperty("id").GetString()!;
        await PlatformImport.CompletedAsync(App, id);
        var (again, second) = await PlatformImport.PostAsync(App, query);
        var rerun = await PlatformImport.CompletedAsync(App, second.GetProperty("id").GetString()!);
        var buyer = (await new TableProfileStore(TestStorage.Clients().Tables, App.Names).GetAsync(new CustomerKey("woocommerce", "1"), CancellationToken.None))!.Value;

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
        var (status, problem) = await PlatformImport.PostAsync(App, query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("Cannot import from the platform", problem.GetProperty("title").GetString());
    }
}

/// <summary>A platform import stopped mid-slice (the worker's token cancelled while a page is being read) and run again: it goes on from the saved page.</summary>
public sealed class PlatformImportResumeTests : StubbedAppTests
{
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]> { ["customers"] = [.. Enumerable.Range(1, 250).Select(PlatformImport.WooCustomer)], ["orders"] = [] };
        (Stub, var address) = await StubApi.StartAsync(stub => PlatformImport.MapWooCommerce(stub, records, _requests, async (resource, page, attempt, aborted) =>
        {
            if (page == 3 && attempt == 1)
            {
                _stalled.SetResult();
                await Task.Delay(Timeout.Infinite, aborted); // until the "crash" below drops the request
            }

            return null;
        }));
        // No ImportWork trigger: the test runs the slices itself.
        App = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials,
            triggers: "IngestBatches,JourneyEvents");
    }

    [Fact]
    public async Task RunSlice_CrashedWhileReadingPage3_ResumesFromPage3_CountsMatchNoDuplicates()
    {
        var (atCrash, resumed) = await PlatformImport.CrashThenResumeAsync(App, $"kind=customers&platform=woocommerce&shop={PlatformImport.WooSite}", _stalled.Task);

        Assert.Equal(("running", 200, 200, 250), (atCrash.GetProperty("status").GetString(), atCrash.GetProperty("recordsRead").GetInt32(),
            atCrash.GetProperty("rowsApplied").GetInt32(), atCrash.GetProperty("recordsExpected").GetInt32()));
        Assert.True(atCrash.GetProperty("etaSeconds").ValueKind == JsonValueKind.Number);
        Assert.Equal((ImportStatus.Completed, 250, 250, 0L), (resumed!.Status, resumed.RecordsRead, resumed.Applied, resumed.Skipped));
        Assert.Equal((1, 1, 2), (_requests["customers:1"], _requests["customers:2"], _requests["customers:3"])); // pages read before the crash were not read again
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);
        Assert.Equal("woo250@example.com", (await profiles.GetAsync(new CustomerKey("woocommerce", "250"), CancellationToken.None))!.Value.Email);
    }
}

/// <summary>
/// A platform that keeps failing past the queue's attempts: the import function's last attempt leaves the import
/// stalled, with the kind of failure, instead of running forever; the same request again resumes it from the saved page.
/// </summary>
public sealed class PlatformImportStallTests : StubbedAppTests
{
    private readonly ConcurrentDictionary<string, int> _requests = new();
    private volatile bool _down = true;

    public override async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]> { ["customers"] = [.. Enumerable.Range(1, 150).Select(PlatformImport.WooCustomer)], ["orders"] = [] };
        // 502: not one of the answers the Admin API client waits out itself, so each attempt of the slice fails at once.
        (Stub, var address) = await StubApi.StartAsync(stub => PlatformImport.MapWooCommerce(stub, records, _requests, (resource, page, attempt, _) =>
            Task.FromResult<IResult?>(page == 2 && _down ? Results.StatusCode(StatusCodes.Status502BadGateway) : null)));
        // No ImportWork trigger: the test hands the function its message, with the attempt count the host would.
        App = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials,
            triggers: "IngestBatches,JourneyEvents");
    }

    [Fact]
    public async Task WorkFailsOnItsLastAttempt_ImportShowsStalledWithWhy_SamePostResumesFromTheSavedPage()
    {
        var query = $"kind=customers&platform=woocommerce&shop={PlatformImport.WooSite}";
        var (_, accepted) = await PlatformImport.PostAsync(App, query);
        var id = accepted.GetProperty("id").GetString()!;
        var work = ActivatorUtilities.CreateInstance<Functions.ImportsFunctions>(App.Services);
        var lastAttempt = App.Services.GetRequiredService<Hosting.HostJson>().Queues.MaxDequeueCount;
        QueueMessage Attempt(long dequeueCount) => QueuesModelFactory.QueueMessage("m-1", "receipt", BinaryData.FromObjectAsJson(new ImportWorkMessage(id), Core.NudgeJson.Options), dequeueCount);

        await Assert.ThrowsAsync<HttpRequestException>(() => work.WorkAsync(Attempt(1), CancellationToken.None));
        var retrying = await PlatformImport.ProgressAsync(App, id);
        await Assert.ThrowsAsync<HttpRequestException>(() => work.WorkAsync(Attempt(lastAttempt), CancellationToken.None)); // still thrown: the host poisons the message
        var stalled = await PlatformImport.ProgressAsync(App, id);
        _down = false;
        var (againStatus, again) = await PlatformImport.PostAsync(App, query);
        await work.WorkAsync(Attempt(1), CancellationToken.None);
        var resumed = await PlatformImport.ProgressAsync(App, id);

        Assert.Equal(("running", 100), (retrying.GetProperty("status").GetString(), retrying.GetProperty("recordsRead").GetInt32()));
        Assert.Equal(("stalled", 100, 100), (stalled.GetProperty("status").GetString(), stalled.GetProperty("recordsRead").GetInt32(), stalled.GetProperty("rowsApplied").GetInt32()));
        Assert.StartsWith($"gave up after {lastAttempt} attempts (HttpRequestException, HTTP 502)", stalled.GetProperty("problem").GetString());
        Assert.Equal(JsonValueKind.Null, stalled.GetProperty("etaSeconds").ValueKind); // no estimate while nothing moves
        Assert.Equal((HttpStatusCode.Accepted, id, "queued"), (againStatus, again.GetProperty("id").GetString(), again.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Null, again.GetProperty("problem").ValueKind);
        Assert.Equal(("completed", 150, 150), (resumed.GetProperty("status").GetString(), resumed.GetProperty("recordsRead").GetInt32(), resumed.GetProperty("rowsApplied").GetInt32()));
        Assert.Equal(1, _requests["customers:1"]); // the saved page was not read again
    }
}

/// <summary>
/// Shopify's Admin GraphQL bulk operations stubbed as documented: <c>currentBulkOperation</c>, <c>bulkOperationRunQuery</c>
/// (answered THROTTLED once, with the cost extension, then OPERATION_IN_PROGRESS once), <c>node(id:)</c> RUNNING then COMPLETED with <c>rootObjectCount</c>
/// as a string and a JSONL <c>url</c> served with HTTP ranges (answered 429 once).
/// </summary>
internal sealed class ShopifyBulkStub
{
    public const string Shop = "bulk-import.myshopify.com";
    public const string Token = "shpat_bulk_import_token";

    private readonly object _gate = new();
    private readonly Dictionary<string, string> _results;
    private string? _runningQuery;
    private int _operations;
    private int _polls;

    public ShopifyBulkStub(Dictionary<string, string> results) => _results = results;

    public ConcurrentDictionary<string, int> Requests { get; } = new();

    /// <summary>Answers a download first (a stall, an error) when it returns a result.</summary>
    public Func<long, int, CancellationToken, Task<IResult?>>? BeforeDownload { get; init; }

    public int OperationsStarted => _operations;

    public static string Customer(int id, string emailState = "SUBSCRIBED") => JsonSerializer.Serialize(new
    {
        id = $"gid://shopify/Customer/{id}", email = $"shop{id}@example.com", phone = $"+8210555{id:D5}", firstName = "Lee",
        createdAt = "2020-06-01T01:00:00Z", updatedAt = "2020-07-01T01:00:00Z",
        emailMarketingConsent = new { marketingState = emailState, consentUpdatedAt = "2020-06-01T01:00:00Z" },
        smsMarketingConsent = new { marketingState = "NOT_SUBSCRIBED", consentUpdatedAt = (string?)null },
    });

    public static string Order(int id, int? customerId) => JsonSerializer.Serialize(new
    {
        id = $"gid://shopify/Order/{id}", createdAt = "2022-01-05T03:00:00Z",
        customer = customerId is { } c ? new { id = $"gid://shopify/Customer/{c}" } : null,
        currencyCode = "KRW", totalPriceSet = new { shopMoney = new { amount = "45000.0", currencyCode = "KRW" } },
    });

    public void Map(WebApplication stub)
    {
        stub.MapPost("/admin/api/2025-10/graphql.json", async (HttpRequest request) =>
        {
            if (request.Headers["X-Shopify-Access-Token"] != Token)
            {
                return Results.StatusCode(StatusCodes.Status401Unauthorized);
            }

            var body = await request.ReadFromJsonAsync<JsonElement>();
            var query = body.GetProperty("query").GetString()!;
            var key = query.Contains("currentBulkOperation", StringComparison.Ordinal) ? "current"
                : query.Contains("bulkOperationRunQuery", StringComparison.Ordinal) ? "run" : "node";
            var attempt = Requests.AddOrUpdate(key, 1, (_, n) => n + 1);
            lock (_gate)
            {
                switch (key)
                {
                    case "current":
                        return Json(_runningQuery is null ? """{"data":{"currentBulkOperation":null}}"""
                            : JsonSerializer.Serialize(new { data = new { currentBulkOperation = new { id = $"gid://shopify/BulkOperation/{_operations}", status = _polls > 1 ? "COMPLETED" : "RUNNING", query = _runningQuery } } }));
                    case "run" when attempt == 1:
                        return Json("""{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED","documentation":"https://shopify.dev/api/usage/rate-limits"}}],"extensions":{"cost":{"requestedQueryCost":10,"actualQueryCost":null,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":5,"restoreRate":100.0}}}}""");
                    case "run" when attempt == 2:
                        return Json("""{"data":{"bulkOperationRunQuery":{"bulkOperation":null,"userErrors":[{"field":null,"message":"A bulk query operation for this app and shop is already in progress.","code":"OPERATION_IN_PROGRESS"}]}}}""");
                    case "run":
                        _runningQuery = body.GetProperty("variables").GetProperty("query").GetString();
                        _operations++;
                        _polls = 0;
                        return Json(JsonSerializer.Serialize(new { data = new { bulkOperationRunQuery = new { bulkOperation = new { id = $"gid://shopify/BulkOperation/{_operations}", status = "CREATED" }, userErrors = Array.Empty<object>() } } }));
                    default:
                        var kind = _runningQuery!.Contains("customers", StringComparison.Ordinal) ? "customers" : "orders";
                        var completed = ++_polls > 1;
                        var roots = _results[kind].Split('\n', StringSplitOptions.RemoveEmptyEntries).Count(l => !l.Contains("__parentId", StringComparison.Ordinal));
                        var url = $"{request.Scheme}://{request.Host}/bulk/{kind}.jsonl";
                        return Json(JsonSerializer.Serialize(new { data = new { node = new { status = completed ? "COMPLETED" : "RUNNING", errorCode = (string?)null,
                            rootObjectCount = completed ? roots.ToString(CultureInfo.InvariantCulture) : "0", url = completed ? url : null } } }));
                }
            }
        });

        stub.MapGet("/bulk/{name}.jsonl", async (string name, HttpRequest request) =>
        {
            Assert.False(request.Headers.ContainsKey("X-Shopify-Access-Token")); // the signed URL gets no token
            var from = request.Headers.Range.ToString() is { Length: > 0 } range ? long.Parse(range["bytes=".Length..].TrimEnd('-'), CultureInfo.InvariantCulture) : 0;
            var attempt = Requests.AddOrUpdate($"download:{name}:{from}", 1, (_, n) => n + 1);
            if (BeforeDownload is not null && await BeforeDownload(from, attempt, request.HttpContext.RequestAborted) is { } early)
            {
                return early;
            }

            var bytes = System.Text.Encoding.UTF8.GetBytes(_results[name]);
            return from >= bytes.Length ? Results.StatusCode(StatusCodes.Status416RangeNotSatisfiable)
                : from == 0 ? Results.Bytes(bytes, "application/jsonl") : new PartialContent(bytes[(int)from..]);
        });
    }

    private static IResult Json(string json) => Results.Text(json, "application/json");

    private sealed class PartialContent(byte[] bytes) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = StatusCodes.Status206PartialContent;
            httpContext.Response.ContentType = "application/jsonl";
            return httpContext.Response.Body.WriteAsync(bytes).AsTask();
        }
    }
}

public sealed class ShopifyBulkImportTests : StubbedAppTests
{
    private ShopifyBulkStub _shopify = null!;

    public override async Task InitializeAsync()
    {
        var customers = string.Join("\n", Enumerable.Range(1, 1100).Select(id => ShopifyBulkStub.Customer(id, id == 2 ? "UNSUBSCRIBED" : "SUBSCRIBED"))) + "\n";
        var orders = string.Join("\n", ShopifyBulkStub.Order(5001, 1), """{"id":"gid://shopify/LineItem/1","title":"Mug","__parentId":"gid://shopify/Order/5001"}""",
            ShopifyBulkStub.Order(5002, 1), ShopifyBulkStub.Order(5003, null)); // the last line without its newline, as a file may end
        _shopify = new ShopifyBulkStub(new() { ["customers"] = customers, ["orders"] = orders })
        {
            BeforeDownload = (from, attempt, _) => Task.FromResult<IResult?>(from == 0 && attempt == 1 ? Results.StatusCode(StatusCodes.Status429TooManyRequests) : null),
        };
        (Stub, var address) = await StubApi.StartAsync(_shopify.Map);
        App = await PlatformImport.AppAsync("shopify", ShopifyBulkStub.Shop, $"{address}/admin/api/2025-10", ShopifyBulkStub.Token);
    }

    [Fact]
    public async Task Post_WithoutBody_RunsABulkQueryThroughThrottleAnd429_FoldsJsonlIntoProfiles()
    {
        var (_, customers, orders) = await PlatformImport.ImportCustomersThenOrdersAsync(App, "shopify", ShopifyBulkStub.Shop);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);
        var subscribed = (await profiles.GetAsync(new CustomerKey("shopify", "1"), CancellationToken.None))!.Value;
        var unsubscribed = (await profiles.GetAsync(new CustomerKey("shopify", "2"), CancellationToken.None))!.Value;

        Assert.Equal(("completed", 1100, 1100, 1100), (customers.GetProperty("status").GetString(), customers.GetProperty("recordsRead").GetInt32(),
            customers.GetProperty("rowsApplied").GetInt32(), customers.GetProperty("recordsExpected").GetInt32()));
        Assert.Equal((2, 4), (_shopify.OperationsStarted, _shopify.Requests["run"])); // each kind's query started once: the first try throttled, the second met another operation
        Assert.Equal(2, _shopify.Requests["download:customers:0"]); // a 429, then the first page
        Assert.Equal(("shop1@example.com", "+821055500001", "Lee"), (subscribed.Email, subscribed.Phone, subscribed.FirstName));
        Assert.Equal((true, false, false), (subscribed.Consent.Email, subscribed.Consent.Sms, unsubscribed.Consent.Email));
        Assert.Equal(new DateTimeOffset(2020, 6, 1, 1, 0, 0, TimeSpan.Zero), subscribed.SignedUpAt);
        Assert.Equal(("completed", 3, 2, 1), (orders.GetProperty("status").GetString(), orders.GetProperty("recordsRead").GetInt32(),
            orders.GetProperty("rowsApplied").GetInt32(), orders.GetProperty("rowsSkipped").GetInt32()));
        var buyer = (await profiles.GetAsync(new CustomerKey("shopify", "1"), CancellationToken.None))!.Value;
        Assert.Equal((true, 2), (buyer.HasOrdered, buyer.Orders.Count));

        await App.WaitForQueuesToDrainAsync();
        Assert.Empty(await App.DeliveriesAsync("1")); // imported signups start no welcome
    }
}

/// <summary>A Shopify import stopped while reading the bulk result's second page and run again: the same operation, read on from the saved offset.</summary>
public sealed class ShopifyBulkImportResumeTests : StubbedAppTests
{
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ShopifyBulkStub _shopify = null!;

    public override async Task InitializeAsync()
    {
        var customers = string.Join("\n", Enumerable.Range(1, 1200).Select(id => ShopifyBulkStub.Customer(id))) + "\n";
        _shopify = new ShopifyBulkStub(new() { ["customers"] = customers, ["orders"] = "" })
        {
            BeforeDownload = async (from, attempt, aborted) =>
            {
                if (from > 0 && attempt == 1 && !_stalled.Task.IsCompleted)
                {
                    _stalled.SetResult();
                    await Task.Delay(Timeout.Infinite, aborted); // until the "crash" below drops the request
                }

                return null;
            },
        };
        (Stub, var address) = await StubApi.StartAsync(_shopify.Map);
        App = await PlatformImport.AppAsync("shopify", ShopifyBulkStub.Shop, $"{address}/admin/api/2025-10", ShopifyBulkStub.Token, triggers: "IngestBatches,JourneyEvents");
    }

    [Fact]
    public async Task RunSlice_CrashedOnTheSecondJsonlPage_ResumesAtItsOffset_OneOperation_CountsMatch()
    {
        var (atCrash, resumed) = await PlatformImport.CrashThenResumeAsync(App, $"kind=customers&platform=shopify&shop={ShopifyBulkStub.Shop}", _stalled.Task);

        Assert.Equal(("running", ShopifyAdminPageLines, 1200), (atCrash.GetProperty("status").GetString(), atCrash.GetProperty("recordsRead").GetInt32(), atCrash.GetProperty("recordsExpected").GetInt32()));
        Assert.Equal((ImportStatus.Completed, 1200, 1200L), (resumed!.Status, resumed.RecordsRead, resumed.Applied));
        Assert.Equal(1, _shopify.OperationsStarted);
        Assert.Equal(1, _shopify.Requests["download:customers:0"]); // the first page was not read again
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);
        Assert.Equal("shop1200@example.com", (await profiles.GetAsync(new CustomerKey("shopify", "1200"), CancellationToken.None))!.Value.Email);
    }

    private const int ShopifyAdminPageLines = Nudge.App.Reconciliation.ShopifyAdminClient.BulkLinesPerPage;
}

/// <summary>
/// Cafe24's Admin API stubbed as documented: the OAuth refresh grant (the configured access token has expired),
/// <c>admin/customersprivacy</c> and <c>admin/orders</c> by date window with limit/offset both capped (beyond the caps
/// a 400), their <c>/count</c>, <c>X-Api-Call-Limit</c> on every answer (the count's three quarters full) and one 429.
/// </summary>
internal sealed class Cafe24ImportStub
{
    public const string Mall = "import24mall";
    private const int PageLimit = 2;
    private const int MaxOffset = 2;
    private static readonly TimeSpan Kst = TimeSpan.FromHours(9);
    private readonly List<(string Json, DateTimeOffset At)> _members = [];
    private readonly List<(string Json, DateTimeOffset At)> _orders = [];
    private string? _accessToken;
    private int _rateLimited;

    /// <summary>Every request: what it asked for (<c>customersprivacy</c>, <c>customersprivacy/count</c>, …) and when it came (a stopwatch timestamp).</summary>
    public ConcurrentQueue<(string What, long At)> Requests { get; } = new();

    /// <summary>Holds a page request first (its number among the member page requests) when it returns a task that has not ended.</summary>
    public Func<int, CancellationToken, Task>? BeforeMemberPage { get; init; }

    private int _memberPages;

    private static string Time(DateTimeOffset at) => at.ToOffset(Kst).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    public Cafe24ImportStub()
    {
        for (var i = 1; i <= 4; i++)
        {
            var joined = new DateTimeOffset(2019 + i, 3, 1, 12, 0, 0, Kst);
            _members.Add(($$"""{"shop_no":1,"member_id":"m{{i}}","name":"회원","email":"m{{i}}@example.com","cellphone":"010-2222-000{{i}}","news_mail":"T","sms":"{{(i == 1 ? "F" : "T")}}","created_date":"{{Time(joined)}}"}""", joined));
        }

        var crowded = new DateTimeOffset(2025, 5, 5, 10, 0, 0, Kst); // more members in one window than its offsets reach
        for (var i = 1; i <= 8; i++)
        {
            var joined = crowded.AddHours(i);
            _members.Add(($$"""{"shop_no":1,"member_id":"c{{i}}","email":"c{{i}}@example.com","news_mail":"F","sms":"F","created_date":"{{Time(joined)}}"}""", joined));
        }

        var ordered = new DateTimeOffset(2024, 1, 2, 9, 0, 0, Kst);
        _orders.Add(($$$"""{"shop_no":1,"order_id":"20240102-0000001","member_id":"m1","currency":"KRW","order_date":"{{{Time(ordered)}}}","actual_order_amount":{"order_price_amount":"15000.00","payment_amount":"15000.00"}}""", ordered));
        _orders.Add(($$$"""{"shop_no":1,"order_id":"20240102-0000002","member_id":"","currency":"KRW","order_date":"{{{Time(ordered)}}}","actual_order_amount":{"payment_amount":"9000.00"}}""", ordered));
    }

    public void Map(WebApplication stub)
    {
        stub.MapPost("/api/v2/oauth/token", async (HttpRequest request) =>
        {
            var form = await request.ReadFormAsync();
            if (form["grant_type"] != "refresh_token" || form["refresh_token"] != "rt-import")
            {
                return Results.Json(new { error = "invalid_grant" }, statusCode: StatusCodes.Status400BadRequest);
            }

            _accessToken = "at-import-1";
            return Results.Json(new { access_token = _accessToken, expires_at = DateTimeOffset.UtcNow.ToOffset(Kst).AddHours(2).ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture), refresh_token = "rt-import-2" });
        });
        stub.MapGet("/api/v2/admin/{resource}/count", (string resource, HttpRequest request) => Answer(request, resource, count: true));
        stub.MapGet("/api/v2/admin/{resource}", (string resource, HttpRequest request) => Answer(request, resource, count: false));
    }

    /// <summary>The app with the mall whose Admin API is this stub at <paramref name="address"/>, its access token expired (refreshed on the first 401).</summary>
    public static Task<NudgeTestApp> AppAsync(string address, string triggers) => NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Cafe24:AdminPageLimit"] = PageLimit.ToString(CultureInfo.InvariantCulture),
        ["Cafe24:AdminMaxOffset"] = MaxOffset.ToString(CultureInfo.InvariantCulture),
        ["Cafe24:AdminImportSince"] = "2019-01-01T00:00:00+09:00",
        ["Cafe24:AdminImportWindowDays"] = "400",
        ["Shops:0:Platform"] = "cafe24",
        ["Shops:0:Domain"] = Mall,
        ["Shops:0:ApiKey"] = "import24-api-key",
        ["Shops:0:AdminApiUrl"] = $"{address}/api/v2",
        ["Shops:0:AdminAccessToken"] = "an-expired-access-token",
        ["Shops:0:AdminClientId"] = "import24-client",
        ["Shops:0:AdminClientSecret"] = "import24-secret",
        ["Shops:0:AdminRefreshToken"] = "rt-import",
        ["Nudge:LocalTriggerFunctions"] = triggers,
    });

    private async Task<IResult> Answer(HttpRequest request, string resource, bool count)
    {
        Requests.Enqueue(($"{resource}{(count ? "/count" : "")}", System.Diagnostics.Stopwatch.GetTimestamp()));
        if (_accessToken is null || request.Headers.Authorization != $"Bearer {_accessToken}")
        {
            return Results.Json(new { error = new { code = 401, message = "invalid access_token" } }, statusCode: StatusCodes.Status401Unauthorized);
        }

        if (!count && resource == "customersprivacy" && Interlocked.Increment(ref _rateLimited) == 2)
        {
            request.HttpContext.Response.Headers.RetryAfter = "0";
            return Results.Json(new { error = new { code = 429, message = "Too Many Requests" } }, statusCode: StatusCodes.Status429TooManyRequests);
        }

        var (dateType, records) = resource == "orders" ? ("order_date", _orders) : ("join", _members);
        var start = DateTimeOffset.Parse(request.Query["start_date"]!, CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse(request.Query["end_date"]!, CultureInfo.InvariantCulture);
        var matching = records.Where(r => r.At >= start && r.At <= end).OrderBy(r => r.At).ToList();
        // The count is answered three quarters full: the next call must wait for the bucket to drain.
        request.HttpContext.Response.Headers["X-Api-Call-Limit"] = count ? "31/40" : "1/40";
        if (count)
        {
            return Results.Json(new { count = matching.Count });
        }

        if (resource == "customersprivacy" && BeforeMemberPage is not null)
        {
            await BeforeMemberPage(Interlocked.Increment(ref _memberPages), request.HttpContext.RequestAborted);
        }

        var limit = int.Parse(request.Query["limit"]!, CultureInfo.InvariantCulture);
        var offset = int.Parse(request.Query["offset"]!, CultureInfo.InvariantCulture);
        if (request.Query["date_type"] != dateType || limit > PageLimit || offset > MaxOffset)
        {
            return Results.Json(new { error = new { code = 422, message = "limit, offset or date_type out of range" } }, statusCode: StatusCodes.Status400BadRequest);
        }

        return Results.Text($"{{\"{resource}\":[{string.Join(",", matching.Skip(offset).Take(limit).Select(r => r.Json))}]}}", "application/json");
    }
}

public sealed class Cafe24ImportTests : StubbedAppTests
{
    private const string Mall = Cafe24ImportStub.Mall;
    private readonly Cafe24ImportStub _cafe24 = new();

    public override async Task InitializeAsync()
    {
        (Stub, var address) = await StubApi.StartAsync(_cafe24.Map);
        App = await Cafe24ImportStub.AppAsync(address, triggers: "IngestBatches,JourneyEvents,EmailSender,SmsSender,KakaoSender,ImportWork");
    }

    [Fact]
    public async Task Post_WithoutBody_WalksDateWindows_HalvesACrowdedOne_HonoursCallLimitAnd429_RefreshesTheToken()
    {
        var (_, customers, orders) = await PlatformImport.ImportCustomersThenOrdersAsync(App, "cafe24", Mall);
        Assert.True(customers.GetProperty("status").GetString() == "completed", customers.ToString());
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);
        var m1 = (await profiles.GetAsync(new CustomerKey("cafe24", "m1"), CancellationToken.None))!.Value;
        var m2 = (await profiles.GetAsync(new CustomerKey("cafe24", "m2"), CancellationToken.None))!.Value;
        var c8 = (await profiles.GetAsync(new CustomerKey("cafe24", "c8"), CancellationToken.None))!.Value;
        var requests = _cafe24.Requests.ToList();
        var afterCount = requests.FindLastIndex(r => r.What == "customersprivacy/count") + 1; // the answered one (the first met the expired token)

        Assert.Equal(("completed", 12, 12, 0, 12), (customers.GetProperty("status").GetString(), customers.GetProperty("recordsRead").GetInt32(),
            customers.GetProperty("rowsApplied").GetInt32(), customers.GetProperty("rowsSkipped").GetInt32(), customers.GetProperty("recordsExpected").GetInt32()));
        Assert.Equal(("m1@example.com", "010-2222-0001", true, false), (m1.Email, m1.Phone, m1.Consent.Email, m1.Consent.Sms));
        Assert.True(m2.Consent.Sms);
        Assert.Equal("c8@example.com", c8.Email); // the crowded window was read whole, in halves
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(requests[afterCount - 1].At, requests[afterCount].At) >= TimeSpan.FromSeconds(0.45),
            "the call after a bucket three quarters full waits for it to drain");
        Assert.Equal(("completed", 2, 1, 1), (orders.GetProperty("status").GetString(), orders.GetProperty("recordsRead").GetInt32(),
            orders.GetProperty("rowsApplied").GetInt32(), orders.GetProperty("rowsSkipped").GetInt32()));
        Assert.Equal((true, 1), (m1.HasOrdered, m1.Orders.Count));

        await App.WaitForQueuesToDrainAsync();
        Assert.Empty(await App.DeliveriesAsync("m1")); // members who joined years ago get no welcome
    }
}

/// <summary>A Cafe24 import stopped while its fourth member page is read and run again: it goes on from the saved window and offset.</summary>
public sealed class Cafe24ImportResumeTests : StubbedAppTests
{
    private readonly TaskCompletionSource _stalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Cafe24ImportStub _cafe24 = null!;

    public override async Task InitializeAsync()
    {
        _cafe24 = new Cafe24ImportStub
        {
            BeforeMemberPage = async (page, aborted) =>
            {
                if (page == 4)
                {
                    _stalled.SetResult();
                    await Task.Delay(Timeout.Infinite, aborted); // until the "crash" below drops the request
                }
            },
        };
        (Stub, var address) = await StubApi.StartAsync(_cafe24.Map);
        App = await Cafe24ImportStub.AppAsync(address, triggers: "IngestBatches,JourneyEvents");
    }

    [Fact]
    public async Task RunSlice_CrashedOnAMemberPage_ResumesAtTheSavedWindow_CountsMatch()
    {
        var (atCrash, resumed) = await PlatformImport.CrashThenResumeAsync(App, $"kind=customers&platform=cafe24&shop={Cafe24ImportStub.Mall}", _stalled.Task);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, App.Names);

        Assert.Equal("running", atCrash.GetProperty("status").GetString());
        Assert.InRange(atCrash.GetProperty("recordsRead").GetInt32(), 1, 11);
        Assert.Equal((ImportStatus.Completed, 12, 12L, 0L), (resumed!.Status, resumed.RecordsRead, resumed.Applied, resumed.Skipped));
        Assert.Equal("c8@example.com", (await profiles.GetAsync(new CustomerKey("cafe24", "c8"), CancellationToken.None))!.Value.Email);
    }
}
