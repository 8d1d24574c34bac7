using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Nudge.Testing;
using static Nudge.App.Tests.IngestSourcesTests;

namespace Nudge.App.Tests;

/// <summary>Whatever arrives — accepted, duplicate, ignored, invalid, forged — no secret and no personal data reaches the logs.</summary>
public sealed class LogHygieneTests : IAsyncLifetime
{
    private readonly CapturingLoggerProvider _logs = new();
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: Shops, configure: builder =>
    {
        builder.Logging.AddProvider(_logs);
        builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Ingest_EveryOutcome_LogsNoSecretEmailOrPhone()
    {
        const string email = "private.person@example.com";
        const string phone = "+821098765432";
        var customer = $$$"""{"id":5001,"email":"{{{email}}}","phone":"{{{phone}}}","first_name":"Secret","created_at":"2026-11-24T10:00:00Z","updated_at":"2026-11-24T10:00:00Z","email_marketing_consent":{"state":"subscribed"}}""";
        var requests = new[]
        {
            Shopify(ShopA, SecretA, "customers/create", customer, id: "log-1"),
            Shopify(ShopA, SecretA, "customers/create", customer, id: "log-1"),                  // duplicate
            Shopify(ShopA, SecretB, "customers/create", customer),                                // forged
            Shopify(ShopA, SecretA, "customers/create", customer.Replace("\"id\":5001,", "")),   // invalid
            Shopify(ShopA, SecretA, "themes/publish", customer),                                  // ignored topic
            Shopify(ShopA, SecretA, "customers/redact", $$$"""{"shop_domain":"{{{ShopA}}}","customer":{"id":5001,"email":"{{{email}}}","phone":"{{{phone}}}"}}"""),
            Woo("customer.created", $$$"""{"id":77,"date_created_gmt":"2026-11-24T01:00:00","email":"{{{email}}}","billing":{"phone":"{{{phone}}}"}}"""),
            Cafe24($$$"""{"event_no":90032,"resource":{"mall_id":"{{{Mall}}}","member_id":"m1","created_date":"2026-11-24T10:00:00+09:00","email":"{{{email}}}","cellphone":"{{{phone}}}"}}"""),
            Events("/api/events", $$$"""{"type":"identify","messageId":"log-m","userId":"u-log","timestamp":"2026-11-24T01:00:00Z","traits":{"email":"{{{email}}}","phone":"{{{phone}}}"}}"""),
            Events("/api/events", $$"""{"type":"track","event":"{{email}}","messageId":"log-n","userId":"u-log","timestamp":"2026-11-24T01:00:00Z"}"""),
        };
        foreach (var request in requests)
        {
            await _app.Client.SendAsync(request);
        }

        await TestStorage.EventuallyAsync(() => Task.FromResult(_logs.Lines.Count(l => l.Contains("Privacy request", StringComparison.Ordinal))), n => n > 0, TimeSpan.FromSeconds(20), "the privacy request to be carried out");

        var text = string.Join("\n", _logs.Lines);
        Assert.Contains("log-1", text); // the delivery ids are logged: the capture works
        foreach (var secret in new[] { email, phone, "98765432", SecretA, SecretB, WooSecret, MallKey, EventsSecret, EventsKey })
        {
            Assert.DoesNotContain(secret, text);
        }
    }
}
