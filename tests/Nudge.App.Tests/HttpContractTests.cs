using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Nudge.Core.Customers;
using Nudge.Core.Ingest;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>Client mistakes get a 4xx with a problem body and change nothing.</summary>
public class HttpContractTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task AssertNothingStoredAsync(long customerId)
    {
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        Assert.Null(await profiles.GetAsync(new CustomerKey("shopify", customerId.ToString()), CancellationToken.None));
        Assert.Empty(await _app.DeliveriesAsync(customerId.ToString()));
        var raw = TestStorage.Clients().Blobs.GetBlobContainerClient(_app.Names.RawPayloads);
        Assert.Empty(await raw.GetBlobsAsync().ToListAsync());
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("detail").GetString()));
    }

    [Theory]
    [InlineData("")]                                              // missing header
    [InlineData("not base64!")]                                    // garbage
    [InlineData("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")]   // right length, wrong value
    public async Task Webhook_MissingOrWrongSignature_Is401AndStoresNothing(string signature)
    {
        var response = await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(1001), signature: signature);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        await AssertNothingStoredAsync(1001);
    }

    [Fact]
    public async Task Webhook_SignedWithAnotherSecret_Is401()
    {
        var body = NudgeTestApp.Customer(1002);
        var signature = WebhookSignature.Compute(Encoding.UTF8.GetBytes(body), "another-secret"u8);

        var response = await _app.PostWebhookAsync("customers/create", body, signature: signature);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Webhook_BodyChangedAfterSigning_Is401()
    {
        var signed = NudgeTestApp.Customer(1003);
        var signature = WebhookSignature.Compute(Encoding.UTF8.GetBytes(signed), Encoding.UTF8.GetBytes(NudgeTestApp.WebhookSecret));

        var response = await _app.PostWebhookAsync("customers/create", signed.Replace("1003", "1004"), signature: signature);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        await AssertNothingStoredAsync(1004);
    }

    [Fact]
    public async Task Webhook_SignatureOverRawBytesThatDifferFromReserializedJson_IsAccepted()
    {
        // Escaped non-ASCII, odd spacing, key order and a trailing newline: re-serializing would change the bytes.
        var body = "{ \"created_at\" : \"2026-11-24T10:00:00+09:00\",\n  \"first_name\": \"\\uBBFC\\uC9C0\", \"id\" : 1005 ,\"email\":\"m@example.com\" }\n";
        Assert.NotEqual(body, JsonSerializer.Serialize(JsonSerializer.Deserialize<JsonElement>(body)));

        var response = await _app.PostWebhookAsync("customers/create", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var profiles = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        var profile = await TestStorage.EventuallyAsync(() => profiles.GetAsync(new CustomerKey("shopify", "1005"), CancellationToken.None), p => p is not null, TimeSpan.FromSeconds(10), "the profile");
        Assert.Equal("민지", profile!.Value.FirstName);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("[1,2,3]")]
    public async Task Webhook_BodyThatIsNoJsonObject_Is400AndStoresNothing(string body)
    {
        var response = await _app.PostWebhookAsync("customers/create", body);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        await AssertNothingStoredAsync(1006);
    }

    [Fact]
    public async Task Webhook_SignedCustomerWithoutAnId_IsAcknowledgedWithTheReasonAndStoresNothing()
    {
        var response = await _app.PostWebhookAsync("customers/create", "{\"email\":\"no-id@example.com\",\"created_at\":\"2026-11-24T10:00:00Z\"}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Contains("cannot be mapped", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("reason").GetString());
        await AssertNothingStoredAsync(1006);
    }

    [Theory]
    [InlineData("{\"id\":1016}")]
    [InlineData("{\"id\":1016,\"created_at\":\"yesterday\"}")]
    public async Task Webhook_SignedCustomerWithoutAUsableTime_IsAcceptedDatedByItsReceipt_AndSaysSo(string body)
    {
        var response = await _app.PostWebhookAsync("customers/create", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("accepted", answer.GetProperty("status").GetString());
        Assert.Contains("'created_at' missing", answer.GetProperty("degraded")[0].GetString());
    }

    [Fact]
    public async Task Webhook_MissingWebhookIdHeaderValue_Is400()
    {
        var response = await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(1007), webhookId: "bad/id#1");

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Webhook_WrongContentType_Is415()
    {
        var response = await _app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(1008), contentType: "text/plain");

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Webhook_BodyOverOneMebibyte_Is413()
    {
        var body = "{\"id\":1009,\"note\":\"" + new string('x', 1024 * 1024) + "\"}";

        var response = await _app.PostWebhookAsync("customers/create", body);

        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Webhook_TopicNoJourneyUses_Is202Ignored()
    {
        var response = await _app.PostWebhookAsync("collections/update", "{\"id\":1}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("ignored", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Webhook_GuestOrder_Is202Ignored()
    {
        var response = await _app.PostWebhookAsync("orders/create", "{\"id\":5,\"created_at\":\"2026-11-24T10:00:00Z\",\"customer\":null}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-wrong-key")]
    public async Task Deliveries_WithoutTheMarketerKey_Is401(string? key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/deliveries?platform=shopify&customerId=1");
        if (key is not null)
        {
            request.Headers.Add("x-api-key", key);
        }

        await AssertProblemAsync(await _app.Client.SendAsync(request), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Deliveries_WithoutCustomer_Is400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/deliveries?platform=shopify");
        request.Headers.Add("x-api-key", NudgeTestApp.ApiKey);

        await AssertProblemAsync(await _app.Client.SendAsync(request), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Health_Is200()
    {
        var response = await _app.Client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task NonHttpFunction_IsNotReachableOverHttp_404WithProblemBody()
    {
        var queueFunction = await _app.Client.PostAsync("/EmailSender", new StringContent("{}", Encoding.UTF8, "application/json"));
        var underPrefix = await _app.Client.PostAsync("/api/EmailSender", new StringContent("{}", Encoding.UTF8, "application/json"));

        await AssertProblemAsync(queueFunction, HttpStatusCode.NotFound);
        await AssertProblemAsync(underPrefix, HttpStatusCode.NotFound);
    }
}
