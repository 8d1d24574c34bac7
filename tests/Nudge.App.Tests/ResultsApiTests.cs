using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The results API on the whole app (Kestrel + Azurite): a welcome signup, its coupon sent, reported delivered and
/// clicked, then an order, read back as the journey's results, as CSV and in the overview; and bad requests answered 4xx.
/// </summary>
public class ResultsApiTests : IAsyncLifetime
{
    private const string CallbackKey = "results-callback-key-0001";
    private static int _nextId = Random.Shared.Next(1_000_000, 9_000_000);
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() =>
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:Channels:CallbackKey"] = CallbackKey });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> GetAsync(string path, string? key = NudgeTestApp.ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        return await _app.Client.SendAsync(request);
    }

    private async Task<JsonElement> ResultsAsync(string query = "")
    {
        using var response = await GetAsync($"/api/journeys/welcome/results{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }

    private Task<HttpResponseMessage> ReportAsync(string eventType, string deliveryId, string data) =>
        _app.Client.PostAsync($"/api/callbacks/acs?key={CallbackKey}", new StringContent($$$"""
            [{"id":"{{{Guid.NewGuid()}}}","eventType":"{{{eventType}}}","subject":"x","dataVersion":"1.0","eventTime":"{{{DateTimeOffset.UtcNow:O}}}",
              "data":{"messageId":"{{{Guid.ParseExact(deliveryId, "N"):D}}}",{{{data}}}}}]
            """));

    [Fact]
    public async Task WelcomeJourney_SentDeliveredClickedAndOrdered_ShowsInResultsCsvAndOverview()
    {
        var id = Interlocked.Increment(ref _nextId);
        var now = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(id, createdAt: now));
        var coupon = (await _app.WaitForDeliveriesAsync(id.ToString(), r => r.Any(d => d.Status == "sent"), "the coupon")).Single();

        // The provider reports each twice, as Event Grid may: each counts once.
        for (var copy = 0; copy < 2; copy++)
        {
            Assert.Equal(HttpStatusCode.OK, (await ReportAsync("Microsoft.Communication.EmailDeliveryReportReceived", coupon.DeliveryId, "\"status\":\"Delivered\"")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await ReportAsync("Microsoft.Communication.EmailEngagementTrackingReportReceived", coupon.DeliveryId,
                "\"engagementType\":\"click\",\"engagementContext\":\"https://shop.example/coupon\"")).StatusCode);
        }

        var orderedAt = DateTimeOffset.UtcNow.AddSeconds(1).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture); // after the coupon went out
        await _app.PostWebhookAsync("orders/create",
            $$$"""{"id":{{{id * 10}}},"created_at":"{{{orderedAt}}}","total_price":"39000","currency":"KRW","customer":{"id":{{{id}}}}}""");
        var results = await TestStorage.EventuallyAsync(() => ResultsAsync(), r => r.GetProperty("converted").GetInt64() >= 1, TimeSpan.FromSeconds(30), "the order to convert");

        var coupons = results.GetProperty("steps").EnumerateArray().Single(s => s.GetProperty("step").GetString() == "coupon");
        Assert.Equal((1L, 1L, 1L, "email"), (coupons.GetProperty("sent").GetInt64(), coupons.GetProperty("delivered").GetInt64(), coupons.GetProperty("clicked").GetInt64(), coupons.GetProperty("channel").GetString()));
        Assert.Equal(1, coupons.GetProperty("converted").GetInt64());
        Assert.Equal((1L, 1L), (results.GetProperty("entered").GetInt64(), results.GetProperty("converted").GetInt64()));
        var revenue = Assert.Single(results.GetProperty("revenue").EnumerateArray());
        Assert.Equal(("KRW", 39000m), (revenue.GetProperty("currency").GetString(), revenue.GetProperty("amount").GetDecimal()));
        Assert.Equal(JsonValueKind.Array, results.GetProperty("variants").ValueKind);
        Assert.Equal(JsonValueKind.Null, results.GetProperty("holdout").ValueKind);

        // Folding changes nothing that a read returns.
        await _app.InvokeAsync("ResultsFold", new Microsoft.Azure.Functions.Worker.TimerInfo());
        Assert.Equal(results.GetProperty("steps").ToString(), (await ResultsAsync()).GetProperty("steps").ToString());

        using var csv = await GetAsync("/api/journeys/welcome/results?format=csv");
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("journey,from,to,step,channel,sent,delivered,opened,clicked", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("welcome,", StringComparison.Ordinal) && l.Contains(",coupon,email,1,1,0,1,", StringComparison.Ordinal) && l.EndsWith(",1,KRW 39000", StringComparison.Ordinal));

        using var overview = await GetAsync("/api/results");
        var welcome = JsonDocument.Parse(await overview.Content.ReadAsStringAsync()).RootElement.GetProperty("journeys").EnumerateArray().Single(j => j.GetProperty("journey").GetString() == "welcome");
        Assert.Equal((1L, 1L), (welcome.GetProperty("entered").GetInt64(), welcome.GetProperty("converted").GetInt64()));
        using var overviewCsv = await GetAsync("/api/results?format=csv");
        Assert.Contains("\r\nwelcome,", await overviewCsv.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/api/journeys/welcome/results?from=yesterday", HttpStatusCode.BadRequest)]
    [InlineData("/api/journeys/welcome/results?from=2026-12-05&to=2026-12-01", HttpStatusCode.BadRequest)]
    [InlineData("/api/journeys/welcome/results?from=2024-01-01&to=2026-12-01", HttpStatusCode.BadRequest)]
    [InlineData("/api/journeys/welcome/results?format=xml", HttpStatusCode.BadRequest)]
    [InlineData("/api/results?to=2026-02-30", HttpStatusCode.BadRequest)]
    [InlineData("/api/results?to=0001-01-01", HttpStatusCode.BadRequest)]
    [InlineData("/api/results?from=9999-12-31&to=9999-12-31", HttpStatusCode.BadRequest)]
    [InlineData("/api/journeys/no-such-journey/results", HttpStatusCode.NotFound)]
    [InlineData("/api/journeys/Not%20An%20Id%23%3F/results", HttpStatusCode.NotFound)]
    [InlineData("/api/journeys/{long}/results", HttpStatusCode.NotFound)]
    public async Task BadQuery_IsAProblemNeverA5xx(string path, HttpStatusCode expected)
    {
        path = path.Replace("{long}", new string('a', 2000), StringComparison.Ordinal);
        using var response = await GetAsync(path);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task NoKey_Is401()
    {
        using var journey = await GetAsync("/api/journeys/welcome/results", key: null);
        using var overview = await GetAsync("/api/results", key: "wrong");

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (journey.StatusCode, overview.StatusCode));
    }

    [Fact]
    public async Task OpenApi_DescribesTheResultsResponses()
    {
        using var response = await GetAsync("/api/openapi.json", key: null);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        var ok = document["paths"]!["/api/journeys/{id}/results"]!["get"]!["responses"]!["200"]!["content"]!;
        var properties = ok["application/json"]!["schema"]!["properties"]!.AsObject();
        Assert.True(new[] { "journey", "entered", "converted", "revenue", "steps", "variants", "holdout" }.All(properties.ContainsKey));
        Assert.NotNull(ok["text/csv"]);
        Assert.NotNull(document["paths"]!["/api/results"]!["get"]!["responses"]!["4XX"]);
    }
}
