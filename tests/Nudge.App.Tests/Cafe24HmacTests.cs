using System.Net;
using static Nudge.App.Tests.IngestSourcesTests;

namespace Nudge.App.Tests;

/// <summary>Cafe24 with the <c>Cafe24__Verification=HmacSha256</c> setting: the configured header carries the body's HMAC.</summary>
public sealed class Cafe24HmacTests : IAsyncLifetime
{
    private const string Secret = "cafe24-hmac-secret";
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Cafe24:Verification"] = "HmacSha256",
        ["Cafe24:SignatureHeader"] = "X-Mall-Signature",
        ["Cafe24:Events:12345"] = "customer.signed_up",
        ["Shops:0:Platform"] = "cafe24",
        ["Shops:0:Domain"] = Mall,
        ["Shops:0:WebhookSecret"] = Secret,
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Cafe24_HmacScheme_AcceptsTheRightSignatureOnly_AndConfiguredEventNumbersMap()
    {
        var body = """{"event_no":12345,"resource":{"mall_id":"koreamall","member_id":"hm1","created_date":"2026-11-24T10:00:00+09:00"}}""";

        var signed = await _app.Client.SendAsync(Request("/api/webhooks/cafe24", body, headers: [("X-Mall-Signature", Sign(body, Secret))]));
        var keyOnly = await _app.Client.SendAsync(Request("/api/webhooks/cafe24", body, headers: [("X-Api-Key", Secret)]));
        var wrong = await _app.Client.SendAsync(Request("/api/webhooks/cafe24", body, headers: [("X-Mall-Signature", Sign(body, "other-secret"))]));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (signed.StatusCode, keyOnly.StatusCode, wrong.StatusCode));
        Assert.Contains("accepted", await signed.Content.ReadAsStringAsync());
    }
}
