using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Nudge.App.Hosting;
using Nudge.Core.Journeys;

namespace Nudge.App.Tests;

/// <summary>The marketer journey API over HTTP, and that the Functions host would route every endpoint.</summary>
public class JourneysApiTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null, bool withKey = true)
    {
        using var request = new HttpRequestMessage(method, path);
        if (withKey)
        {
            request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        }

        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await _app.Client.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response) => await response.Content.ReadFromJsonAsync<JsonElement>();

    private const string Draft = """
        {
          "id": "spring-sale",
          "name": "Spring sale",
          "entry": { "event": "customer.signed_up" },
          "exitOn": [ { "event": "order.placed" } ],
          "steps": [
            { "type": "send", "id": "mail", "channel": "email", "template": "spring-sale", "class": "ad" },
            { "type": "wait", "id": "later", "duration": "P1D" },
            { "type": "send", "id": "sms", "channel": "sms", "template": "spring-sale-sms" }
          ]
        }
        """;

    [Fact]
    public async Task Welcome_IsPublishedAndActiveByDefault()
    {
        var list = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/journeys"));

        var welcome = list.EnumerateArray().Single(j => j.GetProperty("id").GetString() == "welcome");
        Assert.Equal(("active", 1), (welcome.GetProperty("status").GetString(), welcome.GetProperty("publishedVersion").GetInt32()));
    }

    [Fact]
    public async Task DraftPublishPauseResumeArchive_FollowTheLifecycle()
    {
        var created = await SendAsync(HttpMethod.Post, "/api/journeys", Draft);
        var published = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/publish");
        var paused = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/pause");
        var resumed = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/resume");
        var redraft = await SendAsync(HttpMethod.Put, "/api/journeys/spring-sale/draft", Draft.Replace("P1D", "P2D"));
        var republished = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/publish");
        var versions = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/journeys/spring-sale/versions"));
        var archived = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/archive");
        var resumeArchived = await SendAsync(HttpMethod.Post, "/api/journeys/spring-sale/resume");

        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Equal("draft", (await JsonAsync(created)).GetProperty("journey").GetProperty("status").GetString());
        Assert.Equal(1, (await JsonAsync(published)).GetProperty("journey").GetProperty("publishedVersion").GetInt32());
        Assert.Equal("paused", (await JsonAsync(paused)).GetProperty("journey").GetProperty("status").GetString());
        Assert.Equal("active", (await JsonAsync(resumed)).GetProperty("journey").GetProperty("status").GetString());
        Assert.Equal(2, (await JsonAsync(redraft)).GetProperty("definition").GetProperty("version").GetInt32());
        Assert.Equal(2, (await JsonAsync(republished)).GetProperty("journey").GetProperty("publishedVersion").GetInt32());
        Assert.Equal(["P1D", "P2D"], versions.EnumerateArray().Select(v => v.GetProperty("steps")[1].GetProperty("duration").GetString()));
        Assert.Equal("archived", (await JsonAsync(archived)).GetProperty("journey").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.Conflict, resumeArchived.StatusCode);
    }

    [Fact]
    public async Task InvalidDraft_Is400WithEveryErrorAndItsPath()
    {
        var broken = Draft.Replace("\"channel\": \"email\"", "\"channel\": \"fax\"").Replace("\"P1D\"", "\"P0D\"");

        var response = await SendAsync(HttpMethod.Post, "/api/journeys", broken);
        var problem = await JsonAsync(response);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var paths = problem.GetProperty("errors").EnumerateArray().Select(e => e.GetProperty("path").GetString()).ToList();
        Assert.Contains("steps[0].channel", paths);
        Assert.Contains("steps[1].duration", paths);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "/api/journeys/spring-sale")).StatusCode);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("""{"id":"x","entry":{"event":"a"},"steps":[{"type":"teleport","id":"t"}]}""")]
    [InlineData("""{"id":"x","entry":{"event":"a"},"steps":[{"type":"wait","id":"w","duration":"two days"}]}""")]
    [InlineData("""{"id":"x","steps":[]}""")]
    public async Task MalformedJourney_Is400NotA500(string body)
    {
        var response = await SendAsync(HttpMethod.Post, "/api/journeys/validate", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task JourneyPastItsDocumentedLimits_Is400WithTheLimit()
    {
        var steps = string.Join(",", Enumerable.Range(0, 101).Select(i => $$"""{"type":"wait","id":"w{{i}}","duration":"P1D"}"""));
        var goals = string.Join(",", Enumerable.Range(0, 21).Select(_ => """{"event":"order.placed"}"""));
        var deep = string.Concat(Enumerable.Repeat("""{"not":""", 18)) + """{"fact":"profile.hasOrdered","op":"eq","value":"true"}""" + new string('}', 18);

        foreach (var (body, limit) in new[]
        {
            ($$"""{"id":"big","entry":{"event":"customer.signed_up"},"steps":[{{steps}}]}""", "at most 100 steps"),
            ($$"""{"id":"big","entry":{"event":"customer.signed_up"},"exitOn":[{{goals}}],"steps":[{"type":"exit","id":"e"}]}""", "at most 20 goals"),
            ($$"""{"id":"big","entry":{"event":"customer.signed_up","filter":{{deep}}},"steps":[{"type":"exit","id":"e"}]}""", "16 levels at most"),
        })
        {
            var response = await SendAsync(HttpMethod.Post, "/api/journeys", body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains(limit, await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task Validate_ReportsWithoutSaving()
    {
        var result = await JsonAsync(await SendAsync(HttpMethod.Post, "/api/journeys/validate", Draft));

        Assert.True(result.GetProperty("valid").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Get, "/api/journeys/spring-sale")).StatusCode);
    }

    [Fact]
    public async Task Presets_ListsTheCaseStudyJourneys()
    {
        var presets = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/journeys/presets"));

        Assert.Superset(
            new HashSet<string?> { "welcome", "abandoned-checkout", "price-drop", "post-purchase", "repurchase", "win-back", "points-reminder", "consent-reconfirmation", "dormancy-notice" },
            presets.EnumerateArray().Select(p => p.GetProperty("id").GetString()).ToHashSet());
    }

    [Fact]
    public async Task ImpactAndCustomerExplanation_ShowWhereCustomersAre()
    {
        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(4242));
        await _app.WaitForDeliveriesAsync("4242", r => r.Count == 1 && r[0].Status == "sent", "coupon");

        var impact = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/journeys/welcome/impact"));
        var explained = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/customers/shopify/4242/journeys"));

        var position = Assert.Single(impact.GetProperty("positions").EnumerateArray());
        Assert.Equal((1, "two-days", 1), (position.GetProperty("version").GetInt32(), position.GetProperty("step").GetString(), position.GetProperty("instances").GetInt32()));
        var instance = Assert.Single(explained.EnumerateArray());
        Assert.Equal(("welcome", "active", "two-days"), (instance.GetProperty("journey").GetString(), instance.GetProperty("status").GetString(), instance.GetProperty("step").GetString()));
        Assert.Contains(instance.GetProperty("history").EnumerateArray(), h => h.GetProperty("what").GetString()!.StartsWith("send email 'welcome-coupon'"));
        Assert.Equal("sent", instance.GetProperty("deliveries")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task OpenApiDocument_DescribesTheMarketerApi()
    {
        var document = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/openapi.json", withKey: false));

        Assert.StartsWith("3.", document.GetProperty("openapi").GetString());
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/journeys", paths);
        Assert.Contains("/api/journeys/{id}/{action}", paths);
        Assert.Contains("/api/deliveries", paths);
        JsonElement Body(string path, string verb) =>
            document.GetProperty("paths").GetProperty(path).GetProperty(verb).GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("application/json").GetProperty("schema");
        Assert.True(Body("/api/journeys", "get").GetProperty("items").GetProperty("properties").TryGetProperty("hasDraft", out _));
        Assert.Equal(2, Body("/api/journeys/{id}/{action}", "post").GetProperty("oneOf").GetArrayLength()); // the changed journey, or a simulation
        Assert.True(Body("/api/deliveries", "get").GetProperty("items").GetProperty("properties").TryGetProperty("scheduledFor", out _));
        Assert.True(Body("/api/templates/preview", "post").GetProperty("properties").TryGetProperty("bytes", out _));
        Assert.True(Body("/api/customers/{platform}/{customerId}/journeys", "get").GetProperty("items").GetProperty("properties").TryGetProperty("deliveries", out _));
    }

    [Fact]
    public async Task JourneyApi_WithoutKey_Is401()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Get, "/api/journeys", withKey: false)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await SendAsync(HttpMethod.Post, "/api/journeys", Draft, withKey: false)).StatusCode);
    }

    [Fact]
    public async Task EveryHttpFunction_IsServedLocally_AndDescribedInTheOpenApiDocument()
    {
        var declared = FunctionCatalog.Default.Http.SelectMany(f => f.Verbs.Select(v => $"{v} api/{f.Route}")).ToHashSet();
        var mapped = _app.Endpoints.OfType<RouteEndpoint>()
            .SelectMany(e => e.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).Select(m => $"{m} {e.RoutePattern.RawText!.TrimStart('/')}"))
            .ToHashSet();
        var document = await JsonAsync(await SendAsync(HttpMethod.Get, "/api/openapi.json", withKey: false));
        var described = document.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => $"{o.Name.ToUpperInvariant()} {p.Name.TrimStart('/')}"))
            .ToHashSet();

        Assert.Contains("POST api/webhooks/shopify", declared);
        Assert.Equal(declared.Order(), mapped.Order());
        Assert.Equal(declared.Order(), described.Order());
    }
}

public class SimulationApiTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> SimulateAsync(string journey, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/journeys/{journey}/simulate") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        return await _app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Simulate_PublishedWelcome_ReturnsPerDayCountsAndSendsNothing()
    {
        var response = await SimulateAsync("welcome", """{"scenario":{"customers":2000,"days":7,"seed":3}}""");
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(8, report.GetProperty("days").GetArrayLength());
        Assert.True(report.GetProperty("totals").GetProperty("sent").GetProperty("email").GetInt32() > 1000);
        Assert.Empty(await _app.DeliveriesAsync("0"));
    }

    [Fact]
    public async Task Simulate_StoredPopulation_UsesTheShopsCustomers()
    {
        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(6161));
        await _app.WaitForDeliveriesAsync("6161", r => r.Count == 1, "the signup to be processed");

        var response = await SimulateAsync("welcome", """{"population":"stored","scenario":{"customers":100,"days":3}}""");
        var report = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, report.GetProperty("customers").GetInt32());
        Assert.Equal(1, report.GetProperty("totals").GetProperty("sent").GetProperty("email").GetInt32());
    }

    [Theory]
    [InlineData("welcome", """{"scenario":{"customers":0}}""", HttpStatusCode.BadRequest)]
    [InlineData("welcome", """{"scenario":{"customers":300000}}""", HttpStatusCode.BadRequest)]
    [InlineData("welcome", """{"scenario":{"customers":100000,"days":61}}""", HttpStatusCode.BadRequest)]
    [InlineData("welcome", "{oops", HttpStatusCode.BadRequest)]
    [InlineData("no-such-journey", "{}", HttpStatusCode.NotFound)]
    [InlineData("welcome", """{"useDraft":true}""", HttpStatusCode.NotFound)]
    [InlineData("welcome", """{"population":"imaginary"}""", HttpStatusCode.BadRequest)]
    public async Task Simulate_BadRequests_Are4xx(string journey, string body, HttpStatusCode expected)
    {
        Assert.Equal(expected, (await SimulateAsync(journey, body)).StatusCode);
    }
}

public class ScheduleTests
{
    [Fact]
    public void LastOccurrence_NcrontabWithSecondsInTheShopZone()
    {
        var seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
        var from = new DateTimeOffset(2026, 11, 24, 0, 0, 0, TimeSpan.FromHours(9));

        var within = Nudge.App.Functions.TriggerFunctions.LastOccurrence("0 0 10 * * MON", from, from.AddDays(14), seoul);
        var none = Nudge.App.Functions.TriggerFunctions.LastOccurrence("0 0 10 * * MON", from, from.AddDays(3), seoul);

        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 0, 0, TimeSpan.FromHours(9)), within);
        Assert.Null(none);
    }
}

public class SegmentsApiTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await _app.Client.SendAsync(request);
    }

    [Fact]
    public async Task Segment_SaveListAndSize()
    {
        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(5151));
        await _app.WaitForDeliveriesAsync("5151", r => r.Count == 1, "the signup to be processed");

        var saved = await SendAsync(HttpMethod.Put, "/api/segments/sms-ok", """{"id":"sms-ok","name":"SMS consent","condition":{"fact":"profile.smsConsent","op":"eq","value":"true"}}""");
        var list = await (await SendAsync(HttpMethod.Get, "/api/segments")).Content.ReadFromJsonAsync<JsonElement>();
        var size = await (await SendAsync(HttpMethod.Get, "/api/segments/sms-ok/size")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.OK, saved.StatusCode);
        // the preset segments are seeded
        Assert.Equal(JourneyCatalog.PresetSegments.Select(s => s.Id).Append("sms-ok").Order(), list.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).Order());
        Assert.Equal((1, 1), (size.GetProperty("members").GetInt32(), size.GetProperty("customers").GetInt32()));
    }

    [Fact]
    public async Task SegmentSize_RelativeTime_CountsAtRequestTime()
    {
        var anHourAgo = DateTimeOffset.UtcNow.AddHours(-1).ToString("yyyy-MM-ddTHH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture);
        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(5252, createdAt: anHourAgo));
        await _app.WaitForDeliveriesAsync("5252", r => r.Count == 1, "the signup to be processed");

        await SendAsync(HttpMethod.Put, "/api/segments/signed-up-today", """{"id":"signed-up-today","condition":{"fact":"profile.signedUpAt","op":"gte","value":"now-P1D"}}""");
        var recent = await (await SendAsync(HttpMethod.Get, "/api/segments/signed-up-today/size")).Content.ReadFromJsonAsync<JsonElement>();
        var waitedAWeek = await (await SendAsync(HttpMethod.Get, "/api/segments/no-order-7d-after-signup/size")).Content.ReadFromJsonAsync<JsonElement>();

        Assert.True(recent.GetProperty("members").GetInt32() >= 1);
        Assert.Equal(0, waitedAWeek.GetProperty("members").GetInt32());
    }

    [Theory]
    [InlineData("""{"id":"bad","condition":{"fact":"profile.x","op":"like"}}""")]
    [InlineData("""{"id":"other","condition":{"fact":"profile.x","op":"eq"}}""")]
    [InlineData("{nope")]
    [InlineData("""{"id":"bad","condition":{"fact":"profile.lastLoginAt","op":"lt","value":"now-90D"}}""")]
    [InlineData("""{"id":"bad","condition":{"fact":"profile.lastLoginAt","op":"lt","value":"now-P"}}""")]
    public async Task Segment_Invalid_Is400(string body)
    {
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(HttpMethod.Put, "/api/segments/bad", body)).StatusCode);
    }
}
