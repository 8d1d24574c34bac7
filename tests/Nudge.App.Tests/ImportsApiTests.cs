using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>CSV imports over HTTP: accepted at once, applied by the queue function, watched with GET, and every client mistake a 4xx.</summary>
public class ImportsApiTests : IAsyncLifetime
{
    private const string Query = "kind=customers&platform=shopify&shop=example.myshopify.com";
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:ImportMaxUploadBytes"] = "4096" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> PostAsync(string query, string body, string contentType = "text/csv", bool withKey = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/imports?{query}") { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (withKey)
        {
            request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        }

        return await _app.Client.SendAsync(request);
    }

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        return await (await _app.Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Post_Customers_202ThenAppliedByTheQueue_ProgressAndSegmentsShowIt()
    {
        var csv = "customer_id,email,created_at,points,email_marketing_consent\n"
            + "9101,a@example.com,2023-03-01,2500,subscribed\n"
            + "9102,b@example.com,2023-03-01,not-a-number,subscribed\n"
            + "9103,c@example.com,2023-03-01,12000,unsubscribed\n";

        var response = await PostAsync(Query, csv);
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = accepted.GetProperty("id").GetString()!;
        var done = await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/imports/{id}"), p => p.GetProperty("status").GetString() == "completed",
            TimeSpan.FromSeconds(60), "the import to complete");
        var points2000 = await GetJsonAsync("/api/segments/points-2000/size");
        var points10000 = await GetJsonAsync("/api/segments/points-10000/size");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/api/imports/{id}", response.Headers.Location?.ToString());
        Assert.Equal((2, 1, 100.0, 0.0), (done.GetProperty("rowsApplied").GetInt32(), done.GetProperty("rowsSkipped").GetInt32(), done.GetProperty("percent").GetDouble(), done.GetProperty("etaSeconds").GetDouble()));
        Assert.Equal((3, "points must be a whole number from 0 to 10^12"), (done.GetProperty("errors")[0].GetProperty("line").GetInt32(), done.GetProperty("errors")[0].GetProperty("problem").GetString()));
        Assert.Equal((2, 1), (points2000.GetProperty("members").GetInt32(), points10000.GetProperty("members").GetInt32()));
        await _app.WaitForQueuesToDrainAsync();
        Assert.Empty(await _app.DeliveriesAsync("9101")); // customers who signed up long ago get no welcome

        var first = await GetJsonAsync("/api/segments/points-2000/members?limit=1");
        var second = await GetJsonAsync($"/api/segments/points-2000/members?limit=1&cursor={first.GetProperty("cursor").GetString()}");
        Assert.Equal(["9101", "9103"], new[] { first, second }.Select(page => page.GetProperty("members").EnumerateArray().Single().GetProperty("customerId").GetString()).Order());
        Assert.False(second.TryGetProperty("cursor", out var end) && end.ValueKind != JsonValueKind.Null);
    }

    [Theory]
    [InlineData("/api/segments/points-2000/members?limit=0", HttpStatusCode.BadRequest)]
    [InlineData("/api/segments/points-2000/members?limit=1001", HttpStatusCode.BadRequest)]
    [InlineData("/api/segments/points-2000/members?limit=ten", HttpStatusCode.BadRequest)]
    [InlineData("/api/segments/points-2000/members?cursor=abc", HttpStatusCode.BadRequest)]
    [InlineData("/api/segments/points-2000/members?cursor=00000000.5", HttpStatusCode.BadRequest)]
    [InlineData("/api/segments/nope/members", HttpStatusCode.NotFound)]
    public async Task Members_ClientMistakes_Are4xx(string path, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);

        Assert.Equal(expected, (await _app.Client.SendAsync(request)).StatusCode);
    }

    [Theory]
    [InlineData("platform=shopify&shop=s", "customer_id\n1\n", "text/csv", HttpStatusCode.BadRequest)] // no kind
    [InlineData("kind=customers&shop=s", "customer_id\n1\n", "text/csv", HttpStatusCode.BadRequest)] // no platform
    [InlineData("kind=customers&platform=Shop%20ify&shop=s", "customer_id\n1\n", "text/csv", HttpStatusCode.BadRequest)]
    [InlineData("kind=customers&platform=shopify", "customer_id\n1\n", "text/csv", HttpStatusCode.BadRequest)] // no shop
    [InlineData(Query, "customer_id\n1\n", "application/json", HttpStatusCode.UnsupportedMediaType)]
    [InlineData(Query, "id,mail\n1,x\n", "text/csv", HttpStatusCode.BadRequest)]
    [InlineData(Query, "", "text/csv", HttpStatusCode.BadRequest)]
    [InlineData(Query, "\"customer_id\n1\n", "text/csv", HttpStatusCode.BadRequest)]
    public async Task Post_ClientMistakes_Are4xxWithProblemDetails(string query, string body, string contentType, HttpStatusCode expected)
    {
        var response = await PostAsync(query, body, contentType);

        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Post_LargerThanTheBound_Is413_WithoutKey_Is401()
    {
        var large = "customer_id\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"{i}\n"));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync(Query, large)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PostAsync(Query, "customer_id\n1\n", withKey: false)).StatusCode);
    }

    [Theory]
    [InlineData("customers-000000000000000000000000")]
    [InlineData("..%2F..%2Fsecrets")]
    public async Task Get_Unknown_Is404(string id)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/imports/{id}");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);

        Assert.Equal(HttpStatusCode.NotFound, (await _app.Client.SendAsync(request)).StatusCode);
    }
}
