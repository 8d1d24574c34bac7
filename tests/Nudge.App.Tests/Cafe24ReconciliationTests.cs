using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// A stub of Cafe24's Admin API on 127.0.0.1, one path prefix per mall (<c>/{mall}/api/v2/...</c>): the OAuth token
/// endpoint (refresh grant, HTTP Basic client credentials, rotating refresh tokens), <c>admin/customersprivacy</c> and
/// <c>admin/orders</c> selected by date_type/start_date/end_date, paged by limit/offset with both capped (a request
/// beyond the caps is a 400, as Cafe24 answers), guarded by a bearer token and <c>X-Cafe24-Api-Version</c>, and
/// answering the first member search with 429 + Retry-After. The app's Reconcile timer function runs against it.
/// </summary>
public sealed class Cafe24ReconciliationTests : IAsyncLifetime
{
    private const string Mall = "recon24mall";
    private const string Uncredentialed = "norecon24mall";
    private const string ClientId = "recon24-client-id";
    private const string ClientSecret = "recon24-client-secret";
    private const int PageLimit = 2;
    private const int MaxOffset = 2;
    private const int CrowdSize = 6;

    private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;
    private readonly ConcurrentQueue<string> _requests = new();
    private WebApplication _stub = null!;
    private NudgeTestApp _app = null!;
    private Dictionary<string, string?> _settings = null!;
    private string _refreshToken = "rt-0";
    private string? _accessToken;
    private int _refreshes;
    private int _rateLimited;
    private readonly CapturingLoggerProvider _logs = new();

    private static string Kst(DateTimeOffset time) => time.ToOffset(TimeSpan.FromHours(9)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Member(string id, DateTimeOffset joined, string email) =>
        $$"""{"shop_no":1,"member_id":"{{id}}","name":"회원","email":"{{email}}","cellphone":"010-0000-0000","news_mail":"T","sms":"F","created_date":"{{Kst(joined)}}"}""";

    public async Task InitializeAsync()
    {
        var hourAgo = _now.AddHours(-1);
        var members = new List<(string Json, DateTimeOffset At)>
        {
            (Member("lost01", hourAgo, "lost@example.com"), hourAgo),    // its webhook was lost
            (Member("known01", hourAgo.AddMinutes(1), "known@example.com"), hourAgo.AddMinutes(1)), // its webhook arrived
            (Member("old01", _now.AddDays(-30), "old@example.com"), _now.AddDays(-30)), // outside the window
        };
        for (var i = 1; i <= 5; i++)
        {
            var at = _now.AddHours(-2 - i); // more members than one window's offsets reach
            members.Add((Member($"bulk{i}", at, $"bulk{i}@example.com"), at));
        }

        var crowded = _now.AddHours(-20); // more members in one second than the offsets reach
        for (var i = 1; i <= CrowdSize; i++)
        {
            members.Add((Member($"crowd{i}", crowded, $"crowd{i}@example.com"), crowded));
        }

        var orders = new List<(string Json, DateTimeOffset At)>
        {
            ($$$"""{"shop_no":1,"order_id":"20260101-0000001","member_id":"lost01","currency":"KRW","order_date":"{{{Kst(hourAgo)}}}","actual_order_amount":{"order_price_amount":"15000.00","payment_amount":"15000.00"}}""", hourAgo),
            ($$$"""{"shop_no":1,"order_id":"20260101-0000002","member_id":"","currency":"KRW","order_date":"{{{Kst(hourAgo)}}}","actual_order_amount":{"payment_amount":"9000.00"}}""", hourAgo), // a guest
        };

        (_stub, var address) = await StubApi.StartAsync(stub =>
        {
            stub.MapPost("/{mall}/api/v2/oauth/token", async (string mall, HttpRequest request) =>
            {
                _requests.Enqueue($"{mall} token");
                var form = await request.ReadFormAsync();
                if (request.Headers.Authorization != "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ClientId}:{ClientSecret}"))
                    || form["grant_type"] != "refresh_token" || form["refresh_token"] != _refreshToken)
                {
                    return Results.Json(new { error = "invalid_grant" }, statusCode: StatusCodes.Status400BadRequest);
                }

                var n = Interlocked.Increment(ref _refreshes);
                (_accessToken, _refreshToken) = ($"at-{n}", $"rt-{n}");
                var expires = DateTime.SpecifyKind(_now.ToOffset(TimeSpan.FromHours(9)).DateTime.AddHours(2), DateTimeKind.Unspecified);
                return Results.Json(new { access_token = _accessToken, expires_at = expires.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", CultureInfo.InvariantCulture), refresh_token = _refreshToken, client_id = ClientId, mall_id = mall });
            });
            stub.MapGet("/{mall}/api/v2/admin/{resource}", (string mall, string resource, HttpRequest request) =>
            {
                _requests.Enqueue($"{mall} {resource}");
                if (_accessToken is null || request.Headers.Authorization != $"Bearer {_accessToken}")
                {
                    return Results.Json(new { error = new { code = 401, message = "invalid access_token" } }, statusCode: StatusCodes.Status401Unauthorized);
                }

                if (string.IsNullOrEmpty(request.Headers["X-Cafe24-Api-Version"]))
                {
                    return Results.StatusCode(StatusCodes.Status400BadRequest);
                }

                if (resource == "customersprivacy" && Interlocked.Increment(ref _rateLimited) == 1)
                {
                    request.HttpContext.Response.Headers.RetryAfter = "1";
                    return Results.Json(new { error = new { code = 429, message = "Too Many Requests" } }, statusCode: StatusCodes.Status429TooManyRequests);
                }

                var (expectedDateType, records) = resource == "orders" ? ("order_date", orders) : ("join", members);
                var limit = int.Parse(request.Query["limit"]!, CultureInfo.InvariantCulture);
                var offset = int.Parse(request.Query["offset"]!, CultureInfo.InvariantCulture);
                if (request.Query["date_type"] != expectedDateType || limit > PageLimit || offset > MaxOffset)
                {
                    return Results.Json(new { error = new { code = 422, message = "limit, offset or date_type out of range" } }, statusCode: StatusCodes.Status400BadRequest);
                }

                var start = DateTimeOffset.Parse(request.Query["start_date"]!, CultureInfo.InvariantCulture);
                var end = DateTimeOffset.Parse(request.Query["end_date"]!, CultureInfo.InvariantCulture);
                var page = records.Where(r => r.At >= start.AddSeconds(-1) && r.At <= end.AddSeconds(1)).OrderBy(r => r.At).Skip(offset).Take(limit).Select(r => r.Json);
                request.HttpContext.Response.Headers["X-Api-Call-Limit"] = "1/40";
                return Results.Text($"{{\"{resource}\":[{string.Join(",", page)}]}}", "application/json");
            });
        });

        _settings = new Dictionary<string, string?>
        {
            ["Cafe24:AdminPageLimit"] = PageLimit.ToString(CultureInfo.InvariantCulture),
            ["Cafe24:AdminMaxOffset"] = MaxOffset.ToString(CultureInfo.InvariantCulture),
            ["Shops:0:Platform"] = "cafe24",
            ["Shops:0:Domain"] = Mall,
            ["Shops:0:ApiKey"] = IngestSourcesTests.MallKey,
            ["Shops:0:AdminApiUrl"] = $"{address}/{Mall}/api/v2",
            ["Shops:0:AdminAccessToken"] = "an-expired-access-token",
            ["Shops:0:AdminClientId"] = ClientId,
            ["Shops:0:AdminClientSecret"] = ClientSecret,
            ["Shops:0:AdminRefreshToken"] = "rt-0",
            ["Shops:1:Platform"] = "cafe24",
            ["Shops:1:Domain"] = Uncredentialed,
            ["Shops:1:ApiKey"] = "cafe24-other-api-key-01",
            ["Shops:1:AdminApiUrl"] = $"{address}/{Uncredentialed}/api/v2",

            // The tests run Reconcile themselves. The app's own Reconcile timer (every quarter hour of the wall clock)
            // would otherwise fire beside a test's run now and then, and two runs at once make what the tests count
            // nondeterministic (a second run's update probe reads a profile the first run's signup has not reached yet).
            ["Nudge:LocalTriggerFunctions"] = "IngestBatches,JourneyEvents",
        };
        _app = await NudgeTestApp.StartAsync(settings: _settings, configure: builder => builder.Logging.AddProvider(_logs));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stub.DisposeAsync();
    }

    private Task RunReconcileAsync() => StubApi.RunReconcileAsync(_app);

    private async Task<CustomerProfile?> ProfileAsync(string memberId) =>
        (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey("cafe24", memberId), CancellationToken.None))?.Value;

    private async Task<int> EventCountAsync(string? memberId = null)
    {
        var table = TestStorage.Clients().Tables.GetTableClient(_app.Names.Events);
        var rows = memberId is null
            ? table.QueryAsync<Azure.Data.Tables.TableEntity>()
            : table.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == TableKey.For(new CustomerKey("cafe24", memberId)));
        return await rows.CountAsync();
    }

    private async Task ForgetCursorsAsync()
    {
        var settings = TestStorage.Clients().Tables.GetTableClient(_app.Names.Settings);
        await foreach (var cursor in settings.QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == "reconcile"))
        {
            await settings.DeleteEntityAsync(cursor.PartitionKey, cursor.RowKey);
        }
    }

    [Fact]
    public async Task Reconcile_Cafe24MemberAndOrderWithoutWebhooks_FilledOnceThroughPagingRateLimitAndTokenRefresh()
    {
        var known = $$$"""{"event_no":90032,"resource":{"mall_id":"{{{Mall}}}","member_id":"known01","created_date":"{{{Kst(_now.AddMinutes(-59))}}}","email":"known@example.com"}}""";
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(IngestSourcesTests.Cafe24(known))).StatusCode);
        await TestStorage.EventuallyAsync(() => ProfileAsync("known01"), p => p is not null, TimeSpan.FromSeconds(20), "known member from its webhook");

        await RunReconcileAsync();

        // The signup and the order are separate journey messages, handled concurrently and in either order: wait until
        // the profile has folded both (an order folded first makes HasOrdered true before the member's contact is in).
        var lost = await TestStorage.EventuallyAsync(() => ProfileAsync("lost01"),
            p => p is not null && p.HasOrdered && p.LastEventAt.TryGet(EventTypes.CustomerSignedUp, out _), TimeSpan.FromSeconds(20), "lost join and order filled");
        Assert.Equal(("lost@example.com", true), (lost!.Email, lost.SignedUpAt is not null));
        for (var i = 1; i <= 5; i++)
        {
            Assert.NotNull(await TestStorage.EventuallyAsync(() => ProfileAsync($"bulk{i}"), p => p is not null, TimeSpan.FromSeconds(20), $"bulk{i} beyond one window's offsets"));
        }

        Assert.Null(await ProfileAsync("old01"));
        Assert.Equal(1, await EventCountAsync("known01")); // delivered by webhook: not added again
        Assert.Equal(2, await EventCountAsync("lost01"));  // one signup, one order
        Assert.Equal(1, _refreshes);                        // the configured token was refused once, then refreshed
        Assert.True(_rateLimited > 1);                      // the 429 was retried
        Assert.DoesNotContain(_requests, r => r.StartsWith(Uncredentialed, StringComparison.Ordinal));

        var eventsBefore = await EventCountAsync();
        await ForgetCursorsAsync(); // the second run reads the same window again
        await RunReconcileAsync();
        await _app.WaitForQueuesToDrainAsync(deliveries: false); // anything a second run handed over is stored by now
        Assert.Equal(eventsBefore, await EventCountAsync());
        Assert.Equal(1, _refreshes); // the minted token is reused while it is valid
    }

    [Fact]
    public async Task Reconcile_Cafe24SecondWithMoreMembersThanTheOffsetsReach_ReadAsFarAsTheyReachAndReportedInPart()
    {
        await RunReconcileAsync();

        var reachable = PageLimit + MaxOffset; // the pages at offsets 0 and MaxOffset
        for (var i = 1; i <= reachable; i++)
        {
            Assert.NotNull(await TestStorage.EventuallyAsync(() => ProfileAsync($"crowd{i}"), p => p is not null, TimeSpan.FromSeconds(20), $"crowd{i} within the offsets"));
        }

        await _app.WaitForQueuesToDrainAsync(deliveries: false); // anything more the run handed over is stored by now
        for (var i = reachable + 1; i <= CrowdSize; i++)
        {
            Assert.Null(await ProfileAsync($"crowd{i}"));
        }

        Assert.Contains(_logs.Lines, l => l.Contains("only in part", StringComparison.Ordinal));
        // The crowded second did not keep the rest of the window from being read.
        Assert.NotNull(await TestStorage.EventuallyAsync(() => ProfileAsync("bulk5"), p => p is not null, TimeSpan.FromSeconds(20), "bulk5 beside the crowded second"));
    }

    [Fact]
    public async Task Reconcile_Cafe24AfterARestart_GoesOnWithTheRotatedTokenItStoredSealed()
    {
        await RunReconcileAsync();
        Assert.Equal(1, _refreshes);
        var stored = await TestStorage.Clients().Tables.GetTableClient(_app.Names.Settings)
            .QueryAsync<Azure.Data.Tables.TableEntity>(e => e.PartitionKey == "admin-tokens").SingleAsync();
        var row = string.Join("|", stored.Select(kv => $"{kv.Key}={kv.Value}"));
        Assert.DoesNotContain("at-1", row, StringComparison.Ordinal); // reading the storage account gives no API access
        Assert.DoesNotContain("rt-1", row, StringComparison.Ordinal);

        await using var restarted = await NudgeTestApp.StartAsync(prefix: _app.Prefix, settings: _settings);
        await ForgetCursorsAsync();
        var before = _requests.Count;
        await StubApi.RunReconcileAsync(restarted);

        // The restarted app opened the stored token and the API took it: no refusal, so no refresh (a refresh from the
        // configured, already rotated refresh token would be refused and break the chain).
        Assert.Contains(_requests.Skip(before), r => r == $"{Mall} customersprivacy");
        Assert.DoesNotContain(_requests.Skip(before), r => r.EndsWith(" token", StringComparison.Ordinal));
        Assert.Equal(1, _refreshes);
    }
}
