using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core;
using Nudge.Core.Journeys;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The browse-abandonment preset through the whole app: products from Shopify webhooks, views through the events API,
/// relations learned as the views arrive; a product viewed twice in a day brings, a (virtual) day later, an email
/// through the ACS stub that shows it and a related product (tracked links that lead to the product pages) but not the
/// unpublished one; an order afterwards is the journey's conversion in its results.
/// </summary>
public sealed class BrowseAbandonmentEndToEndTests : IAsyncLifetime
{
    private const string Shop = "test-shop.myshopify.com";
    private const string SourceKey = "e2e-events-api-key-0001";

    private ProviderStubs _stubs = null!;
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        _stubs = await ProviderStubs.StartAsync();
        _app = await NudgeTestApp.StartAsync(clockSpeed: 8640, settings: new Dictionary<string, string?>(NudgeTestApp.EmailThrough(_stubs))
        {
            ["Shops:0:Platform"] = "events",
            ["Shops:0:Domain"] = "site1",
            ["Shops:0:ApiKey"] = SourceKey,
            ["Shops:0:CustomerPlatform"] = "shopify",
            ["Shops:0:CustomerShop"] = Shop,
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stubs.DisposeAsync();
    }

    private DateTimeOffset Now => _app.Services.GetRequiredService<TimeProvider>().GetUtcNow();

    private async Task<HttpResponseMessage> MarketerAsync(HttpMethod method, string path, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, Encoding.UTF8, "application/json") };
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        return await _app.Client.SendAsync(request);
    }

    private async Task ViewAsync(long customerId, string productId, string messageId)
    {
        var body = $$$"""{"type":"track","event":"Product Viewed","messageId":"{{{messageId}}}","userId":"{{{customerId}}}","timestamp":"{{{Now:O}}}","properties":{"product_id":"{{{productId}}}"}}""";
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/events") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Nudge-Source", "site1");
        request.Headers.Add("x-api-key", SourceKey);
        using var response = await _app.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static string Product(string id, string title, string status = "active") =>
        $$$"""{"id":{{{id}}},"title":"{{{title}}}","handle":"p-{{{id}}}","status":"{{{status}}}","published_at":"2026-11-01T00:00:00Z","updated_at":"2026-11-24T00:00:00Z","image":{"src":"https://cdn.example/{{{id}}}.jpg"},"variants":[{"id":{{{id}}}1,"price":"39000","inventory_management":null}]}""";

    [Fact]
    public async Task ProductViewedTwice_EmailsItAndARelatedProductNextDay_AndTheOrderConverts()
    {
        var preset = JsonSerializer.Serialize(JourneyCatalog.BrowseAbandonment, NudgeJson.Options);
        Assert.True((await MarketerAsync(HttpMethod.Post, "/api/journeys", preset)).IsSuccessStatusCode);
        Assert.Equal(HttpStatusCode.OK, (await MarketerAsync(HttpMethod.Post, "/api/journeys/browse-abandonment/publish")).StatusCode);
        foreach (var (id, title, status) in new[] { ("501", "Camera", "active"), ("502", "Lens", "active"), ("503", "Hidden lens", "draft") })
        {
            Assert.Equal(HttpStatusCode.OK, (await _app.PostWebhookAsync("products/create", Product(id, title, status))).StatusCode);
        }

        for (var other = 8300; other < 8303; other++) // other customers looked at the camera and then the lenses
        {
            await ViewAsync(other, "501", $"o{other}-1");
            await ViewAsync(other, "502", $"o{other}-2");
            await ViewAsync(other, "503", $"o{other}-3");
        }

        await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(8201));
        await _app.WaitForDeliveriesAsync("8201", r => r.Any(d => d.Template == "welcome-coupon"), "the welcome email");
        await ViewAsync(8201, "501", "v1");
        var secondViewAt = Now;
        await ViewAsync(8201, "501", "v2");

        var rows = await _app.WaitForDeliveriesAsync("8201", r => r.Any(d => d.Template == "browse-abandonment" && d.Status == "sent"), "the browse-abandonment email", seconds: 90);
        var picks = rows.Single(d => d.Template == "browse-abandonment");
        var email = _stubs.Accepted.Single(a => a.Route == "email" && a.Body["content"]!["subject"]!.GetValue<string>().Contains("보신 상품")).Body;
        var text = email["content"]!["plainText"]!.GetValue<string>();
        Assert.Contains("Camera 39,000원", text);
        Assert.Contains("Lens 39,000원", text);
        Assert.DoesNotContain("Hidden lens", text);
        Assert.Contains("https://cdn.example/501.jpg", email["content"]!["html"]!.GetValue<string>());
        Assert.True(picks.ScheduledFor - secondViewAt >= TimeSpan.FromDays(1), $"sent {picks.ScheduledFor:O}, viewed {secondViewAt:O}: not the next day");

        var link = Regex.Match(text, @"https://shop\.example/api/r/[A-Za-z0-9_\-\.]+").Value;
        using var noRedirect = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _app.Client.BaseAddress };
        using var click = await noRedirect.GetAsync(new Uri(link).PathAndQuery);
        Assert.Equal(HttpStatusCode.Redirect, click.StatusCode);
        Assert.Equal($"https://{Shop}/products/p-501", click.Headers.Location!.ToString());

        var order = $$$"""{"id":9201,"created_at":"{{{Now:O}}}","total_price":"39000","currency":"KRW","customer":{"id":8201},"line_items":[{"product_id":501,"variant_id":5011,"quantity":1,"price":"39000"}]}""";
        Assert.Equal(HttpStatusCode.OK, (await _app.PostWebhookAsync("orders/create", order)).StatusCode);
        var results = await TestStorage.EventuallyAsync(ResultsAsync, r => r.GetProperty("converted").GetInt64() >= 1, TimeSpan.FromSeconds(30), "the order to convert");
        Assert.Equal((1L, 1L, 1L), (results.GetProperty("entered").GetInt64(), results.GetProperty("clicked").GetInt64(), results.GetProperty("converted").GetInt64()));
        Assert.Equal(39000m, results.GetProperty("revenue")[0].GetProperty("amount").GetDecimal());
    }

    [Fact]
    public async Task RecommendationsRebuildTimer_SavesTheShopsRelationsFromTheStoredViews()
    {
        for (var other = 8310; other < 8313; other++)
        {
            await ViewAsync(other, "601", $"r{other}-1");
            await ViewAsync(other, "602", $"r{other}-2");
        }

        await _app.WaitForQueuesToDrainAsync(deliveries: false);
        await _app.InvokeAsync("RecommendationsRebuild", new Microsoft.Azure.Functions.Worker.TimerInfo());

        var snapshot = await new Nudge.Storage.BlobRelationsSnapshotStore(TestStorage.Clients().Blobs, _app.Names).LoadAsync(Shop, CancellationToken.None);
        Assert.Equal(["602"], snapshot!.RelatedTo("601", 5).Select(r => r.ProductId));
        Assert.Equal(3, snapshot.Customers);
    }

    private async Task<JsonElement> ResultsAsync()
    {
        var today = _app.Services.GetRequiredService<Nudge.Core.Results.ResultsService>().Today;
        using var response = await MarketerAsync(HttpMethod.Get, $"/api/journeys/browse-abandonment/results?from={today.AddDays(-3):yyyy-MM-dd}&to={today:yyyy-MM-dd}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
    }
}
