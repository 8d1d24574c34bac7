using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Results;

namespace Nudge.App.Tests;

/// <summary>
/// The marketer page in a real headless browser (Debian's chromium; scripts/test.sh installs it when it is missing):
/// it asks the results API with the key and draws the journeys, the funnel, the variants and the holdout, on a
/// desktop and a phone width. With NUDGE_SCREENSHOTS set to a folder, the screenshots are kept there (docs/).
/// </summary>
public class MarketerPageTests : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        _app = await NudgeTestApp.StartAsync();
        await SeedAsync(_app.Services.GetRequiredService<ResultsRecorder>());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A welcome journey's day: an A/B test on the coupon and a holdout, as the ledger counts them.</summary>
    private static async Task SeedAsync(ResultsRecorder results)
    {
        var at = results.Now;
        var facts = new List<ResultFact>();
        void Add(string measure, int count, string group, int? step = null, string? channel = null, decimal amount = 0, string? reason = null)
        {
            for (var i = 0; i < count; i++)
            {
                facts.Add(new ResultFact(ResultFact.IdFor(measure, $"{group}/{step}/{reason}/{i}"), "welcome", measure, at)
                {
                    Group = group, Step = step, Channel = channel, Amount = amount, Currency = amount > 0 ? "KRW" : null, Reason = reason,
                });
            }
        }

        Add(Measures.Entered, 400, "split:a");
        Add(Measures.Entered, 400, "split:b");
        Add(Measures.Entered, 200, Groups.Holdout);
        foreach (var (group, sent, clicked, converted) in new[] { ("split:a", 380, 60, 36), ("split:b", 385, 95, 62) })
        {
            Add(Measures.Sent, sent, group, 0, "email");
            Add(Measures.Delivered, sent - 10, group, 0, "email");
            Add(Measures.Opened, sent / 2, group, 0, "email");
            Add(Measures.Clicked, clicked, group, 0, "email");
            Add(Measures.Converted, converted, group, 0, "email", 39_000);
            Add(Measures.GoalAfterEntry, converted + 8, group, amount: 39_000);
            Add(Measures.Suppressed, 400 - sent, group, 0, "email", reason: "no email marketing consent");
            Add(Measures.Sent, sent / 3, group, 2, "sms");
            Add(Measures.Delivered, sent / 3, group, 2, "sms");
            Add(Measures.Clicked, sent / 12, group, 2, "sms");
        }

        Add(Measures.GoalAfterEntry, 14, Groups.Holdout, amount: 39_000);
        Add(Measures.Converted, 14, Groups.Holdout, amount: 39_000);
        await Task.WhenAll(facts.Chunk(50).Select(async chunk => { foreach (var fact in chunk) { await results.RecordAsync(fact, CancellationToken.None); } }));
    }

    private static async Task<string> RunChromiumAsync(string url, string? screenshot, int width, int height)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: scripts/test.sh installs Debian's chromium package (apt-get install -y chromium).");
        var profile = Directory.CreateTempSubdirectory("nudge-chromium-");
        try
        {
            var start = new ProcessStartInfo(Chromium)
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
                ArgumentList =
                {
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--hide-scrollbars", $"--user-data-dir={profile.FullName}",
                    $"--window-size={width},{height}", "--virtual-time-budget=15000",
                },
            };
            start.ArgumentList.Add(screenshot is null ? "--dump-dom" : $"--screenshot={screenshot}");
            start.ArgumentList.Add(url);
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
            await process.WaitForExitAsync(timeout.Token);
            return await output;
        }
        finally
        {
            profile.Delete(recursive: true);
        }
    }

    private string PageUrl => new Uri(_app.Client.BaseAddress!, $"/api/app#key={NudgeTestApp.ApiKey}").ToString();

    [Fact]
    public async Task Page_WithTheKey_DrawsJourneysFunnelVariantsAndHoldout()
    {
        var dom = await RunChromiumAsync(PageUrl, screenshot: null, 1280, 1600);

        Assert.Contains("data-journey=\"welcome\"", dom);
        Assert.Contains("Welcome coupon + day-2 SMS (welcome)", dom);
        Assert.Contains("<rect", dom);                                   // the funnel chart
        Assert.Contains("<title>clicked: 155</title>", dom);              // coupon clicks of both variants
        Assert.Contains("split:b", dom);
        Assert.Contains("converts better than the baseline", dom);
        Assert.Contains("Lift in conversion", dom);
        Assert.Contains("Revenue per customer (KRW)", dom);
        Assert.Matches(@"role=""status"">\d+ journeys?, \d{4}-\d{2}-\d{2} to \d{4}-\d{2}-\d{2}\.<", dom); // loaded without an error
    }

    [Fact]
    public async Task Page_WithoutTheKey_AsksForItAndShowsNoData()
    {
        var dom = await RunChromiumAsync(new Uri(_app.Client.BaseAddress!, "/api/app").ToString(), screenshot: null, 500, 900);

        Assert.Contains("Enter the marketer API key", dom);
        Assert.DoesNotMatch(@"data-journey=""\w", dom);
    }

    [Theory]
    [InlineData("results-page.png", 1280, 1900)]
    // Headless Chromium lays a page out at least 500 px wide whatever the window: the narrowest it can show.
    [InlineData("results-page-narrow.png", 500, 2300)]
    public async Task Page_Screenshots_AreRendered(string name, int width, int height)
    {
        var folder = Environment.GetEnvironmentVariable("NUDGE_SCREENSHOTS") is { Length: > 0 } kept ? kept : Directory.CreateTempSubdirectory("nudge-shots-").FullName;
        var path = Path.Combine(folder, name);
        File.Delete(path);

        await RunChromiumAsync(PageUrl, path, width, height);

        Assert.True(new FileInfo(path).Length > 10_000, $"{path} was not rendered.");
    }
}
