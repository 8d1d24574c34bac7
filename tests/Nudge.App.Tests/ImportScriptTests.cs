using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Imports;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary><c>scripts/import.sh</c> run against the app: it starts an import, follows its progress to the end and says how it went by its exit status.</summary>
public sealed class ImportScriptTests : StubbedAppTests
{

    public override async Task InitializeAsync()
    {
        var records = new Dictionary<string, string[]> { ["customers"] = [.. Enumerable.Range(1, 120).Select(PlatformImport.WooCustomer)], ["orders"] = [] };
        (Stub, var address) = await StubApi.StartAsync(stub =>
        {
            PlatformImport.MapWooCommerce(stub, records, new ConcurrentDictionary<string, int>());
            // A third site whose API never answers: its import runs until the test says its queue gave up on it.
            stub.MapGet("/silent/wp-json/wc/v3/{resource}", async (HttpContext context) =>
            {
                await Task.Delay(Timeout.Infinite, context.RequestAborted);
                return Results.Ok();
            });
        });
        App = await PlatformImport.AppAsync("woocommerce", PlatformImport.WooSite, $"{address}/wp-json/wc/v3", PlatformImport.WooCredentials, more: new Dictionary<string, string?>
        {
            // A second site whose keys the shop has since revoked: the stub answers it 401.
            ["Shops:1:Platform"] = "woocommerce",
            ["Shops:1:Domain"] = "revoked.example",
            ["Shops:1:WebhookSecret"] = "revoked-webhook-secret",
            ["Shops:1:AdminApiUrl"] = $"{address}/wp-json/wc/v3",
            ["Shops:1:AdminAccessToken"] = "ck_revoked:cs_revoked",
            ["Shops:2:Platform"] = "woocommerce",
            ["Shops:2:Domain"] = "silent.example",
            ["Shops:2:WebhookSecret"] = "silent-webhook-secret",
            ["Shops:2:AdminApiUrl"] = $"{address}/silent/wp-json/wc/v3",
            ["Shops:2:AdminAccessToken"] = PlatformImport.WooCredentials,
        });
    }

    private async Task<(int ExitCode, string Output, string Errors)> RunAsync(params string[] arguments)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "scripts", "import.sh")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("scripts/import.sh not found above the test's folder");
        }

        var start = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "import.sh"), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["NUDGE_URL"] = App.Client.BaseAddress!.ToString().TrimEnd('/'), ["Nudge__MarketerApiKey"] = NudgeTestApp.ApiKey, ["NUDGE_IMPORT_POLL_SECONDS"] = "0.2" },
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(120)).Token);
        return (process.ExitCode, await output, await errors);
    }

    [Fact]
    public async Task Script_PlatformImport_ShowsProgressToCompletion_Exit0()
    {
        var (exit, output, errors) = await RunAsync("customers", "woocommerce", PlatformImport.WooSite);

        Assert.True(exit == 0, errors + output);
        Assert.Matches(@"\[#{30}\] +100(\.0)?%  applied 120  skipped 0  read 120/120  completed", output);
    }

    [Fact]
    public async Task Script_CsvWithABadRow_CompletesAndListsItByLine_Exit0()
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, "customer_id,email,points\n5001,a@example.com,10\n5002,b@example.com,lots\n");
        var (exit, output, errors) = await RunAsync("customers", "web", "script.example", file);
        File.Delete(file);

        Assert.True(exit == 0, errors + output);
        Assert.Contains("applied 1  skipped 1", output, StringComparison.Ordinal);
        Assert.Contains("  3: points must be a whole number from 0 to 10^12", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_PlatformRefusesTheCredentials_ImportFailsWithTheStatus_Exit1()
    {
        var (exit, output, errors) = await RunAsync("customers", "woocommerce", "revoked.example");

        Assert.True(exit == 1, errors + output);
        Assert.Contains("failed", output, StringComparison.Ordinal);
        Assert.Contains("the import failed: WooCommerce's Admin API answered HTTP 401", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_ImportStalls_SaysWhyAndHowToResume_Exit1()
    {
        var script = RunAsync("customers", "woocommerce", "silent.example");
        var id = ImportHandler.IdOf("customers", "woocommerce", "silent.example", ImportSources.Platform);
        var handler = App.Services.GetRequiredService<ImportHandler>();
        // What the import function records when the queue's last attempt fails, once the script follows the import.
        await TestStorage.EventuallyAsync(() => PlatformImport.ProgressAsync(App, id), p => p.TryGetProperty("status", out var s) && s.ValueKind == System.Text.Json.JsonValueKind.String,
            TimeSpan.FromSeconds(30), "the import to be queued");
        await handler.StallAsync(id, "gave up after 5 attempts (HttpRequestException, HTTP 502): start the same import again to resume", CancellationToken.None);
        var (exit, output, errors) = await script;

        Assert.True(exit == 1, errors + output);
        Assert.Contains("stalled", output, StringComparison.Ordinal);
        Assert.Contains("the import stalled: gave up after 5 attempts (HttpRequestException, HTTP 502)", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_ShopWithoutCredentials_SaysWhyAndExits2()
    {
        var (exit, _, errors) = await RunAsync("orders", "cafe24", "unknown-mall");

        Assert.Equal(2, exit);
        Assert.Contains("HTTP 400", errors, StringComparison.Ordinal);
        Assert.Contains("No cafe24 shop 'unknown-mall'", errors, StringComparison.Ordinal);
    }
}
