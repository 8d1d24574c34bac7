using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The whole app with real providers configured by settings (ACS Email with an access key, Solapi for SMS), pointed
/// at the provider stubs on 127.0.0.1: the welcome email goes out labelled with one-click unsubscribe; unsubscribing
/// withdraws consent and confirms it; a bounce suppresses the address; a click is tracked and redirected.
/// </summary>
public sealed class ChannelDeliveryEndToEndTests : IAsyncLifetime
{
    private ProviderStubs _stubs = null!;
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync()
    {
        _stubs = await ProviderStubs.StartAsync();
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>(NudgeTestApp.EmailThrough(_stubs))
        {
            ["Nudge:Sms:Provider"] = "solapi",
            ["Nudge:Solapi:BaseUrl"] = _stubs.BaseAddress.ToString(),
            ["Nudge:Solapi:ApiKey"] = ProviderStubs.SolapiKey,
            ["Nudge:Solapi:ApiSecret"] = ProviderStubs.SolapiSecret,
            ["Nudge:Solapi:SenderNumber"] = "02-1234-5678",
        });
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _stubs.DisposeAsync();
    }

    private async Task<(DeliveryRow Coupon, JsonElement Email, IDictionary<string, string> Headers)> SignUpAsync(long customerId)
    {
        using var response = await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(customerId));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var rows = await _app.WaitForDeliveriesAsync(customerId.ToString(), r => r.Any(d => d.Template == "welcome-coupon" && d.Status == "sent"), "the coupon email to be sent");
        var (_, body, headers, _) = _stubs.Accepted.Single(a => a.Route == "email" && a.Body["recipients"]!["to"]![0]!["address"]!.GetValue<string>() == $"c{customerId}@example.com");
        return (rows.Single(d => d.Template == "welcome-coupon"), JsonDocument.Parse(body.ToJsonString()).RootElement, headers);
    }

    private static string UnsubscribeUrl(JsonElement email) =>
        email.GetProperty("headers").GetProperty("List-Unsubscribe").GetString()!.Trim('<', '>');

    private static string Local(string publicUrl) => new Uri(publicUrl).PathAndQuery;

    [Fact]
    public async Task WelcomeEmail_GoesOutThroughAcsLabelledWithOneClickUnsubscribe()
    {
        var (coupon, email, headers) = await SignUpAsync(8101);

        Assert.Equal(Guid.ParseExact(coupon.DeliveryId, "N").ToString("D"), headers["Operation-Id"]);
        Assert.StartsWith("(광고) Test님, 가입 축하", email.GetProperty("content").GetProperty("subject").GetString());
        Assert.Contains("테스트샵", email.GetProperty("content").GetProperty("plainText").GetString());
        Assert.Equal("List-Unsubscribe=One-Click", email.GetProperty("headers").GetProperty("List-Unsubscribe-Post").GetString());
        Assert.StartsWith("https://shop.example/api/unsubscribe?t=", UnsubscribeUrl(email));
    }

    [Fact]
    public async Task OneClickUnsubscribe_WithdrawsConsentRecordsLedgerAndConfirms()
    {
        var (_, email, _) = await SignUpAsync(8102);

        using var page = await _app.Client.GetAsync(Local(UnsubscribeUrl(email)));
        var profileBefore = await Profile(8102);
        using var oneClick = await _app.Client.PostAsync(Local(UnsubscribeUrl(email)), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.True(profileBefore.Consent.Email); // showing the page changed nothing
        Assert.Equal(HttpStatusCode.OK, oneClick.StatusCode);
        Assert.False((await Profile(8102)).Consent.Email);
        var entry = Assert.Single(await new TableConsentLedger(TestStorage.Clients().Tables, _app.Names).ListAsync(Key(8102), CancellationToken.None));
        Assert.Equal((ConsentMedia.Email, false, "one-click-unsubscribe"), (entry.Medium, entry.Granted, entry.Source));
        var rows = await _app.WaitForDeliveriesAsync("8102", r => r.Any(d => d.Template == "consent-withdrawn-email" && d.Status == "sent"), "the withdrawal notice");
        Assert.Equal(entry.ConfirmationDeliveryId, rows.Single(d => d.Template == "consent-withdrawn-email").DeliveryId);
    }

    [Fact]
    public async Task Unsubscribe_StoppedAfterTheProfileWasSaved_IsFinishedWhenAskedAgain_AndAskingTwiceChangesNothingMore()
    {
        var (_, email, _) = await SignUpAsync(8106);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        var saved = (await profiles.GetAsync(Key(8106), CancellationToken.None))!;
        // The first request withdrew the consent on the profile and stopped there: no ledger entry, no notice.
        Assert.True(await profiles.TrySaveAsync(saved.Value with { Consent = saved.Value.Consent with { Email = false } }, saved.Version, CancellationToken.None));

        using var again = await _app.Client.PostAsync(Local(UnsubscribeUrl(email)), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));
        using var onceMore = await _app.Client.PostAsync(Local(UnsubscribeUrl(email)), new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));

        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.OK), (again.StatusCode, onceMore.StatusCode));
        var entry = Assert.Single(await new TableConsentLedger(TestStorage.Clients().Tables, _app.Names).ListAsync(Key(8106), CancellationToken.None));
        Assert.Equal((ConsentMedia.Email, false), (entry.Medium, entry.Granted));
        var rows = await _app.WaitForDeliveriesAsync("8106", r => r.Any(d => d.Template == "consent-withdrawn-email" && d.Status == "sent"), "the withdrawal notice");
        Assert.Equal(entry.ConfirmationDeliveryId, rows.Single(d => d.Template == "consent-withdrawn-email").DeliveryId);
    }

    [Fact]
    public async Task ForgedUnsubscribeLink_Is400AndChangesNothing()
    {
        await SignUpAsync(8103);

        using var response = await _app.Client.PostAsync("/api/unsubscribe?t=eyJmb3JnZWQiOnRydWV9.AAAA", new FormUrlEncodedContent([new("List-Unsubscribe", "One-Click")]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await Profile(8103)).Consent.Email);
    }

    [Fact]
    public async Task HardBounceReport_MarksBouncedAndSuppressesTheAddress()
    {
        var (coupon, _, _) = await SignUpAsync(8104);
        var events = $$$"""
            [{"id":"1","eventType":"Microsoft.Communication.EmailDeliveryReportReceived","subject":"x","dataVersion":"1.0","eventTime":"2026-11-24T10:00:00Z",
              "data":{"sender":"DoNotReply@shop.example","recipient":"c8104@example.com","messageId":"{{{Guid.ParseExact(coupon.DeliveryId, "N"):D}}}","status":"Bounced",
              "deliveryStatusDetails":{"statusMessage":"550 mailbox unavailable"},"deliveryAttemptTimeStamp":"2026-11-24T10:00:00Z"}}]
            """;

        using var wrongKey = await _app.Client.PostAsync("/api/callbacks/acs?key=nope", new StringContent(events));
        using var response = await _app.Client.PostAsync("/api/callbacks/acs?key=e2e-callback-key-0001", new StringContent(events));

        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("bounced", (await _app.DeliveriesAsync("8104")).Single(d => d.DeliveryId == coupon.DeliveryId).Status);
        var suppressions = new TableSuppressionList(TestStorage.Clients().Tables, _app.Names, TimeProvider.System);
        Assert.NotNull(await suppressions.FindAsync(SuppressionMedia.Email, "c8104@example.com", CancellationToken.None));
    }

    [Fact]
    public async Task EventGridValidation_EchoesTheCode()
    {
        using var response = await _app.Client.PostAsync("/api/callbacks/acs?key=e2e-callback-key-0001",
            new StringContent("""[{"id":"2","eventType":"Microsoft.EventGrid.SubscriptionValidationEvent","data":{"validationCode":"512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}}]"""));

        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("validationResponse").GetString());
    }

    [Fact]
    public async Task TrackedLink_RecordsTheClickAndRedirectsToTheTemplateTarget()
    {
        var (coupon, email, _) = await SignUpAsync(8105);
        var link = Regex.Match(email.GetProperty("content").GetProperty("plainText").GetString()!, @"https://shop\.example/api/r/[A-Za-z0-9_\-\.]+").Value;
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = _app.Client.BaseAddress };

        using var response = await client.GetAsync(Local(link));
        using var again = await client.GetAsync(Local(link));
        using var forged = await client.GetAsync("/api/r/AAAA.BBBB");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("https://demo-shop.example/collections/new?coupon=WELCOME10", response.Headers.Location!.ToString());
        Assert.Equal(HttpStatusCode.NotFound, forged.StatusCode);
        var events = await new TableDeliveryEvents(TestStorage.Clients().Tables, _app.Names, TimeProvider.System).ListAsync(coupon.DeliveryId, CancellationToken.None);
        Assert.Contains(("clicked", "shop"), events);
        var results = _app.Services.GetRequiredService<Nudge.Core.Results.ResultsService>();
        var welcome = await results.JourneyAsync("welcome", results.Today.AddDays(-1), results.Today, CancellationToken.None);
        Assert.Equal(1, welcome!.Steps.Single(s => s.Step == "coupon").Clicked); // clicked twice, one delivery clicked
    }

    [Fact]
    public async Task Replay_DeadLetteredDelivery_IsQueuedAgainAndSent()
    {
        var (coupon, _, _) = await SignUpAsync(8106);
        var log = new TableDeliveryLog(TestStorage.Clients().Tables, _app.Names);
        var row = (await log.GetAsync(Key(8106), coupon.DeliveryId, CancellationToken.None))!;
        await log.TryUpdateAsync(row.Value with { Status = "failed", Reason = "gave up after 5 attempts: 503" }, row.Version, CancellationToken.None);
        await new StorageDeadLetters(TestStorage.Clients().Queues, _app.Names).AddAsync("email", new DeliveryMessage("shopify", "8106", coupon.DeliveryId), CancellationToken.None);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/deliveries/replay?channel=email");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);
        using var response = await _app.Client.SendAsync(request);

        Assert.Equal(1, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("replayed").GetInt32());
        await _app.WaitForDeliveriesAsync("8106", r => r.Single(d => d.DeliveryId == coupon.DeliveryId).Status == "sent", "the replayed delivery");
        Assert.Single(_stubs.AcceptedOn("email"), e => e["recipients"]!["to"]![0]!["address"]!.GetValue<string>() == "c8106@example.com"); // same Operation-Id: ACS sent it once
    }

    private static CustomerKey Key(long id) => new("shopify", id.ToString());

    private async Task<CustomerProfile> Profile(long id) =>
        (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(Key(id), CancellationToken.None))!.Value;
}
