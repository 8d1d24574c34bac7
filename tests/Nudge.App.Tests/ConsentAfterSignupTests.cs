using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Compliance;

namespace Nudge.App.Tests;

/// <summary>
/// Shopify since API 2025-01: the signup carries no consent, which comes a moment later on the consent topics. The
/// welcome coupon (an email ad, sent at once) waits for the shop's word instead of being suppressed for a customer who
/// did consent; with no word within the grace, no consent is assumed. The clock runs at 60× so the grace is 10 s.
/// </summary>
public sealed class ConsentAfterSignupTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(clockSpeed: 60);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>A customers/create body as API 2025-01 sends it: no consent objects.</summary>
    private async Task SignUpWithoutConsentAsync(long id, DateTimeOffset at)
    {
        var body = $$$"""{"id":{{{id}}},"email":"c{{{id}}}@example.com","phone":"+8210{{{id:D8}}}","first_name":"Test","created_at":"{{{at:yyyy-MM-ddTHH:mm:sszzz}}}","updated_at":"{{{at.AddSeconds(2):yyyy-MM-ddTHH:mm:sszzz}}}"}""";
        using var response = await _app.PostWebhookAsync("customers/create", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private DateTimeOffset Now => _app.Services.GetRequiredService<TimeProvider>().GetUtcNow();

    [Fact]
    public async Task CouponWaitsForTheConsentTopic_ThenGoesOut()
    {
        var signedUp = Now;
        await SignUpWithoutConsentAsync(8201, signedUp);
        var waiting = await _app.WaitForDeliveriesAsync("8201", r => r.Any(d => d.Template == "welcome-coupon" && d.Reason?.StartsWith("waiting for the shop's word", StringComparison.Ordinal) == true),
            "the coupon to wait for the consent");

        // The consent's own time is the signup's, before the customer record's updated_at: it still counts.
        using var consent = await _app.PostWebhookAsync("customers_email_marketing_consent/update",
            $$$"""{"customer_id":8201,"email_address":"c8201@example.com","email_marketing_consent":{"state":"subscribed","opt_in_level":"single_opt_in","consent_updated_at":"{{{signedUp:yyyy-MM-ddTHH:mm:sszzz}}}"}}""");

        Assert.Equal("queued", waiting.Single(d => d.Template == "welcome-coupon").Status);
        Assert.Equal(HttpStatusCode.OK, consent.StatusCode);
        await _app.WaitForDeliveriesAsync("8201", r => r.Any(d => d.Template == "welcome-coupon" && d.Status == "sent"), "the coupon to go out once the consent came");
    }

    [Fact]
    public async Task NoWordWithinTheGrace_IsNoConsent()
    {
        await SignUpWithoutConsentAsync(8202, Now);

        var rows = await _app.WaitForDeliveriesAsync("8202", r => r.Any(d => d.Template == "welcome-coupon" && d.Status == "suppressed"),
            $"the coupon to be suppressed after {SendPolicy.ConsentStatementGrace}");

        Assert.Equal("no email marketing consent", rows.Single(d => d.Template == "welcome-coupon").Reason);
    }
}
