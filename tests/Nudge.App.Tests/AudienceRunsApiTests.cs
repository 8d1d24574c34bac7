using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Segments;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// A journey started for an imported segment through the real app (Kestrel, Azurite, the durable runtime): paced
/// slices on the queue, each member's journey started once however often a slice is delivered, and every client
/// mistake a 4xx with problem details.
/// </summary>
public class AudienceRunsApiTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    // 240 emails a second; the run asks for 240 a minute: 20 members per 5-second slice.
    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:Email:RateLimits"] = "240/1s" });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, HttpContent? content = null, bool withKey = true)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (withKey)
        {
            request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        }

        return await _app.Client.SendAsync(request);
    }

    private async Task<JsonElement> GetJsonAsync(string path) => await (await SendAsync(HttpMethod.Get, path)).Content.ReadFromJsonAsync<JsonElement>();

    private Task<HttpResponseMessage> StartAsync(string journey, string body) =>
        SendAsync(HttpMethod.Post, $"/api/journeys/{journey}/audiences", new StringContent(body, Encoding.UTF8, "application/json"));

    private async Task ImportAsync(int customers)
    {
        var csv = new StringBuilder("customer_id,email,created_at,points,email_marketing_consent\n");
        for (var i = 1; i <= customers; i++)
        {
            csv.Append($"{8000 + i},c{i}@example.com,2023-03-01,{(i <= 50 ? 5000 : 10)},subscribed\n");
        }

        var response = await SendAsync(HttpMethod.Post, "/api/imports?kind=customers&platform=shopify&shop=example.myshopify.com", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/imports/{id}"), p => p.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the import to complete");
    }

    [Fact]
    public async Task Post_SegmentOf50_StartsEachOnceAtThePace_EvenWithSlicesDeliveredAgain()
    {
        await ImportAsync(60);
        var clock = Stopwatch.StartNew();

        var response = await StartAsync("welcome", """{"segment":"points-2000","perMinute":240}""");
        var accepted = await response.Content.ReadFromJsonAsync<JsonElement>();
        var runId = accepted.GetProperty("id").GetString()!;
        var queue = _app.Services.GetRequiredService<StorageWorkQueue>();
        await queue.EnqueueAudienceSliceAsync(new AudienceSliceMessage(runId, 0), TimeSpan.Zero, CancellationToken.None); // delivered twice at once
        var done = await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/journeys/welcome/audiences/{runId}"), p => p.GetProperty("status").GetString() == "completed",
            TimeSpan.FromSeconds(120), "the audience run to complete");
        var elapsed = clock.Elapsed;
        foreach (var slice in Enumerable.Range(0, 3))
        {
            await queue.EnqueueAudienceSliceAsync(new AudienceSliceMessage(runId, slice), TimeSpan.Zero, CancellationToken.None); // and each again later
        }

        await _app.WaitForQueuesToDrainAsync();
        var coupons = new List<int>();
        foreach (var customer in Enumerable.Range(8001, 50))
        {
            coupons.Add((await _app.DeliveriesAsync($"{customer}")).Count(d => d.Template == "welcome-coupon"));
        }

        var after = await GetJsonAsync($"/api/journeys/welcome/audiences/{runId}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal($"/api/journeys/welcome/audiences/{runId}", response.Headers.Location?.ToString());
        Assert.Equal((50, 240.0), (accepted.GetProperty("members").GetInt32(), accepted.GetProperty("perMinute").GetDouble()));
        Assert.Equal((50, 0, 0), (done.GetProperty("started").GetInt32(), done.GetProperty("skipped").GetProperty("alreadyInJourney").GetInt32(), done.GetProperty("remaining").GetInt32()));
        Assert.True(elapsed >= TimeSpan.FromSeconds(9), $"three slices of 20 at 4 a second take 10 s; took {elapsed}"); // slices 5 s apart
        Assert.All(coupons, c => Assert.Equal(1, c));
        Assert.Equal(50, after.GetProperty("started").GetInt32());
        Assert.DoesNotContain(await _app.DeliveriesAsync("8055"), d => d.Template == "welcome-coupon"); // not in the segment
    }

    [Fact]
    public async Task Post_AppRestartsMidRun_TheRunGoesOnFromItsCheckpoint_EachStartedOnce()
    {
        await ImportAsync(30);
        var response = await StartAsync("welcome", """{"segment":"points-2000","perMinute":120}"""); // 10 a slice, 5 s apart
        var runId = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        var beforeStop = await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/journeys/welcome/audiences/{runId}"), p => p.GetProperty("started").GetInt32() >= 10,
            TimeSpan.FromSeconds(60), "the first slice");
        var prefix = _app.Prefix;
        await _app.DisposeAsync();

        _app = await NudgeTestApp.StartAsync(prefix: prefix, settings: new Dictionary<string, string?> { ["Nudge:Email:RateLimits"] = "240/1s" });
        var done = await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/journeys/welcome/audiences/{runId}"), p => p.GetProperty("status").GetString() == "completed",
            TimeSpan.FromSeconds(120), "the run to complete after the restart");
        await _app.WaitForQueuesToDrainAsync();
        var coupons = new List<int>();
        foreach (var customer in Enumerable.Range(8001, 30))
        {
            coupons.Add((await _app.DeliveriesAsync($"{customer}")).Count(d => d.Template == "welcome-coupon"));
        }

        Assert.Equal("running", beforeStop.GetProperty("status").GetString());
        Assert.Equal((30, 30), (done.GetProperty("members").GetInt32(), done.GetProperty("started").GetInt32()));
        Assert.All(coupons, c => Assert.Equal(1, c));
    }

    [Fact]
    public async Task Post_ClientMistakes_Are4xxWithProblemDetails()
    {
        (string Journey, string Body, HttpStatusCode Expected)[] mistakes =
        [
            ("welcome", """{"segment":"nope"}""", HttpStatusCode.NotFound),
            ("nope", """{"segment":"points-2000"}""", HttpStatusCode.NotFound),
            ("abandoned-checkout", """{"segment":"points-2000"}""", HttpStatusCode.NotFound), // a preset never saved
            ("welcome", """{"segment":"points-2000","perMinute":0}""", HttpStatusCode.BadRequest),
            ("welcome", """{"segment":"points-2000","perMinute":-5}""", HttpStatusCode.BadRequest),
            ("welcome", """{"segment":"points-2000","perMinute":1000000}""", HttpStatusCode.BadRequest), // above the email rate
            ("welcome", """{"perMinute":10}""", HttpStatusCode.BadRequest),
            ("welcome", "not json", HttpStatusCode.BadRequest),
            ("welcome", """{"segment":"points-2000","perMinute":"fast"}""", HttpStatusCode.BadRequest),
        ];
        var answers = new List<(HttpStatusCode, string?)>();
        foreach (var (journey, body, _) in mistakes)
        {
            var response = await StartAsync(journey, body);
            answers.Add((response.StatusCode, response.Content.Headers.ContentType?.MediaType));
        }

        await SendAsync(HttpMethod.Post, "/api/journeys/welcome/pause");
        var paused = await TestStorage.EventuallyAsync(() => StartAsync("welcome", """{"segment":"points-2000"}"""), r => r.StatusCode != HttpStatusCode.Accepted,
            TimeSpan.FromSeconds(30), "the pause to reach the catalog");
        using var badKey = new HttpRequestMessage(HttpMethod.Post, "/api/journeys/welcome/audiences") { Content = new StringContent("""{"segment":"points-2000"}""", Encoding.UTF8, "application/json") };
        badKey.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        badKey.Headers.Add("Idempotency-Key", "not a key/../");
        var badKeyAnswer = await _app.Client.SendAsync(badKey);
        var withoutKey = await SendAsync(HttpMethod.Post, "/api/journeys/welcome/audiences", new StringContent("""{"segment":"points-2000"}""", Encoding.UTF8, "application/json"), withKey: false);

        var document = System.Text.Json.Nodes.JsonNode.Parse(await (await SendAsync(HttpMethod.Get, "/api/openapi.json", withKey: false)).Content.ReadAsStringAsync())!;
        var accepted = document["paths"]!["/api/journeys/{id}/audiences"]!["post"]!["responses"]!["202"]!["content"]!["application/json"]!["schema"]!["properties"]!.AsObject();
        var progress = document["paths"]!["/api/journeys/{id}/audiences/{runId}"]!["get"]!["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["properties"]!.AsObject();

        Assert.Equal(mistakes.Select(m => (m.Expected, (string?)"application/problem+json")), answers);
        Assert.True(new[] { "id", "members", "started", "skipped", "remaining", "perMinute", "etaSeconds" }.All(p => accepted.ContainsKey(p) && progress.ContainsKey(p)));
        Assert.Equal(HttpStatusCode.Conflict, paused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, withoutKey.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badKeyAnswer.StatusCode);
    }

    [Theory]
    [InlineData("/api/journeys/welcome/audiences/aud-00000000000000000000000000000000")]
    [InlineData("/api/journeys/welcome/audiences/..%2Fsecrets")]
    public async Task Get_Unknown_Is404_WithoutKey_Is401(string path)
    {
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, path)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, path, withKey: false)).StatusCode);
    }
}
