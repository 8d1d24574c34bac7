using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// Relative-time segments change membership as time passes, with no event: the size the app answers follows its
/// virtual clock (a day every 4 s here), and agrees with the interpreter at the times around each answer.
/// </summary>
public class SegmentClockTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(clockSpeed: 86400 / 4.0);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<JsonElement> GetJsonAsync(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        return await (await _app.Client.SendAsync(request)).Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<DateTimeOffset> VirtualNowAsync() => (await GetJsonAsync("/api/health")).GetProperty("now").GetDateTimeOffset();

    [Fact]
    public async Task Size_NoOrderAfterSignup_CustomerEntersAsTheClockPasses_WithNoEvent()
    {
        var signedUp = (await VirtualNowAsync()).AddDays(-11);
        var csv = $"customer_id,email,created_at\n9301,a@example.com,{signedUp.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture)}\n";
        using (var upload = new HttpRequestMessage(HttpMethod.Post, "/api/imports?kind=customers&platform=shopify&shop=example.myshopify.com")
               { Content = new StringContent(csv, Encoding.UTF8, "text/csv") })
        {
            upload.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
            var id = (await (await _app.Client.SendAsync(upload)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
            await TestStorage.EventuallyAsync(() => GetJsonAsync($"/api/imports/{id}"), p => p.GetProperty("status").GetString() == "completed", TimeSpan.FromSeconds(60), "the import");
        }

        var profile = (await _app.Services.GetRequiredService<IProfileStore>().GetAsync(new CustomerKey("shopify", "9301"), CancellationToken.None))!.Value;
        var zone = _app.Services.GetRequiredService<PipelineSettings>().DefaultTimeZone;
        var segment = AudiencePresets.Bigin.Single(s => s.Id == "no-order-14d-after-signup");
        bool Interpreted(DateTimeOffset at) => segment.Condition.Evaluate(CustomerFacts.OfProfile(profile), new EvaluationTime(at, CustomerContexts.ZoneOf(profile, zone)));

        var answers = new List<(DateTimeOffset Before, int Members, DateTimeOffset After)>();
        await TestStorage.EventuallyAsync(async () =>
        {
            var before = await VirtualNowAsync();
            var members = (await GetJsonAsync("/api/segments/no-order-14d-after-signup/size")).GetProperty("members").GetInt32();
            answers.Add((before, members, await VirtualNowAsync()));
            return members;
        }, members => members == 1, TimeSpan.FromSeconds(90), "the customer to enter the segment as days pass");

        Assert.Contains(answers, a => a.Members == 0); // out at first: 11 days after signup
        // Each answer is the interpreter's at the times around it (where those agree: not across the day it changes).
        Assert.All(answers.Where(a => Interpreted(a.Before) == Interpreted(a.After)), a => Assert.Equal(Interpreted(a.Before) ? 1 : 0, a.Members));
    }
}
