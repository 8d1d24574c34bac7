using System.Diagnostics;
using System.Globalization;

/// <summary>
/// Cold start of the packaged app: each trial starts one package's <c>Nudge.App</c> against fresh storage names and
/// measures how long until it answers <c>/api/health</c>, its first signed webhook, the next 800 at 16 concurrent,
/// and the CPU it spent on all of that. The packages take turns, so both see the same machine.
/// </summary>
internal static class ColdStart
{
    private sealed record Trial(double ReadyMs, double FirstMs, double BurstMs, double CpuSeconds);

    public static async Task<int> RunAsync(Options o)
    {
        var packages = o.Get("packages", "").Split(',', StringSplitOptions.RemoveEmptyEntries);
        var trials = o.Int("trials", 5);
        var secret = o.Get("secret", "bench-shopify-webhook-secret");
        var deliveries = Load.Prepare(trials * packages.Length * 801, 0, secret);
        var results = packages.ToDictionary(p => p, _ => new List<Trial>());
        var next = 0;
        for (var t = 0; t < trials; t++)
        {
            foreach (var package in packages)
            {
                var trial = await TrialAsync(o, package, secret, deliveries.GetRange(next, 801));
                next += 801;
                results[package].Add(trial);
                Console.WriteLine($"{Path.GetFileName(package)}: ready {trial.ReadyMs:0} ms, first webhook {trial.FirstMs:0} ms, next 800 {trial.BurstMs:0} ms, CPU {trial.CpuSeconds:0.00} s");
            }
        }

        Console.WriteLine();
        var baseline = Median(results[packages[0]]);
        foreach (var package in packages)
        {
            var m = Median(results[package]);
            Console.WriteLine($"RESULT {Path.GetFileName(package)} (median of {trials}): ready {m.ReadyMs:0} ms ({m.ReadyMs / baseline.ReadyMs:0.00}x), first webhook {m.FirstMs:0} ms ({m.FirstMs / baseline.FirstMs:0.00}x), next 800 {m.BurstMs:0} ms ({m.BurstMs / baseline.BurstMs:0.00}x), CPU {m.CpuSeconds:0.00} s ({m.CpuSeconds / baseline.CpuSeconds:0.00}x)");
        }

        return 0;
    }

    private static async Task<Trial> TrialAsync(Options o, string package, string secret, List<Delivery> deliveries)
    {
        var url = new Uri(o.Get("url", "http://127.0.0.1:7177"));
        var start = new ProcessStartInfo(Path.Combine(package, "Nudge.App"), ["--urls", url.ToString()])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["AzureWebJobsStorage"] = o.Get("storage", "UseDevelopmentStorage=true");
        start.Environment["Nudge__Storage__Prefix"] = $"cold{Stopwatch.GetTimestamp() % 1_000_000_000}";
        start.Environment["Shopify__WebhookSecret"] = secret;
        start.Environment["Nudge__MarketerApiKey"] = "bench-marketer-api-key-01";
        start.Environment["Nudge__LocalTriggers"] = "true";
        start.Environment["Nudge__LocalTriggerFunctions"] = "none";
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        using var app = Process.Start(start) ?? throw new InvalidOperationException($"could not start {package}");
        app.OutputDataReceived += (_, _) => { };
        app.ErrorDataReceived += (_, _) => { };
        app.BeginOutputReadLine();
        app.BeginErrorReadLine();
        try
        {
            while (!await IsHealthyAsync(http, new Uri(url, "/api/health")))
            {
                if (clock.Elapsed > TimeSpan.FromSeconds(60) || app.HasExited)
                {
                    throw new InvalidOperationException($"{package} did not start");
                }

                await Task.Delay(10);
            }

            var ready = clock.Elapsed.TotalMilliseconds;
            var webhook = new Uri(url, "/api/webhooks/shopify");
            var first = await Load.ClosedLoopAsync(http, webhook, deliveries.GetRange(0, 1), 1, TimeSpan.FromSeconds(30), signed: true);
            var burst = await Load.ClosedLoopAsync(http, webhook, deliveries.GetRange(1, 800), 16, TimeSpan.FromSeconds(60), signed: true);
            if (first.Accepted + burst.Accepted != 801)
            {
                throw new InvalidOperationException($"{package}: {first.Accepted + burst.Accepted} of 801 webhooks accepted");
            }

            return new Trial(ready, first.Elapsed.TotalMilliseconds, burst.Elapsed.TotalMilliseconds, CpuMeter.Of(app.Id) / 1e6);
        }
        finally
        {
            app.Kill(entireProcessTree: true);
            await app.WaitForExitAsync();
        }
    }

    private static async Task<bool> IsHealthyAsync(HttpClient http, Uri health)
    {
        try
        {
            using var response = await http.GetAsync(health);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static Trial Median(List<Trial> trials)
    {
        static double Of(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            return sorted[sorted.Length / 2];
        }

        return new Trial(Of(trials.Select(t => t.ReadyMs)), Of(trials.Select(t => t.FirstMs)), Of(trials.Select(t => t.BurstMs)), Of(trials.Select(t => t.CpuSeconds)));
    }
}
