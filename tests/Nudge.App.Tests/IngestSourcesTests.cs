using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using FsCheck;
using FsCheck.Fluent;
using Nudge.Core.Customers;
using Nudge.Core.Ingest;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>Every source over HTTP on the real app: per-shop secrets, each platform's verification, and bad input that changes nothing.</summary>
public class IngestSourcesTests : IAsyncLifetime
{
    public const string ShopA = "shop-a.myshopify.com";
    public const string ShopB = "shop-b.myshopify.com";
    public const string SecretA = "secret-for-shop-a";
    public const string SecretB = "secret-for-shop-b";
    public const string WooSite = "woo.example";
    public const string WooSecret = "woo-webhook-secret";
    public const string Mall = "koreamall";
    public const string MallKey = "cafe24-mall-api-key-0001";
    public const string EventsSource = "site-1";
    public const string EventsSecret = "events-signing-secret";
    public const string EventsKey = "events-api-key-00000001";
    public const string ShopRotating = "shop-r.myshopify.com";
    public const string SecretRotatingNew = "secret-rotated-in";
    public const string SecretRotatingOld = "secret-rotated-out";

    public static readonly Dictionary<string, string?> Shops = new()
    {
        ["Shops:0:Platform"] = "shopify", ["Shops:0:Domain"] = ShopA, ["Shops:0:WebhookSecret"] = SecretA,
        ["Shops:1:Platform"] = "shopify", ["Shops:1:Domain"] = ShopB, ["Shops:1:WebhookSecret"] = SecretB,
        ["Shops:2:Platform"] = "woocommerce", ["Shops:2:Domain"] = WooSite, ["Shops:2:WebhookSecret"] = WooSecret,
        ["Shops:3:Platform"] = "cafe24", ["Shops:3:Domain"] = Mall, ["Shops:3:ApiKey"] = MallKey,
        ["Shops:4:Platform"] = "events", ["Shops:4:Domain"] = EventsSource, ["Shops:4:WebhookSecret"] = EventsSecret, ["Shops:4:ApiKey"] = EventsKey,
        ["Shops:5:Platform"] = "shopify", ["Shops:5:Domain"] = ShopRotating, ["Shops:5:WebhookSecret"] = SecretRotatingNew, ["Shops:5:PreviousWebhookSecret"] = SecretRotatingOld,
    };

    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: Shops);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static HttpRequestMessage Request(string path, string body, string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body)) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return request;
    }

    public static string Sign(string body, string secret) => WebhookSignature.Compute(Encoding.UTF8.GetBytes(body), Encoding.UTF8.GetBytes(secret));

    public static HttpRequestMessage Shopify(string shop, string secret, string topic, string body, string? id = null) =>
        Request("/api/webhooks/shopify", body, headers: [("X-Shopify-Topic", topic), ("X-Shopify-Shop-Domain", shop), ("X-Shopify-Webhook-Id", id ?? Guid.NewGuid().ToString()), ("X-Shopify-Hmac-Sha256", Sign(body, secret))]);

    public static HttpRequestMessage Woo(string topic, string body, string? signature = null, string site = "https://woo.example/", string? id = null) =>
        Request("/api/webhooks/woocommerce", body, headers: [("X-WC-Webhook-Topic", topic), ("X-WC-Webhook-Source", site), ("X-WC-Webhook-Delivery-ID", id ?? Random.Shared.Next().ToString()), ("X-WC-Webhook-Signature", signature ?? Sign(body, WooSecret))]);

    public static HttpRequestMessage Cafe24(string body, string key = MallKey, string? trace = null) =>
        Request("/api/webhooks/cafe24", body, headers: [("X-Api-Key", key), ("X-Trace-Id", trace ?? Guid.NewGuid().ToString())]);

    public static HttpRequestMessage Events(string path, string body, string? signature = null, string source = EventsSource) =>
        Request(path, body, headers: [("X-Nudge-Source", source), ("X-Nudge-Signature", signature ?? Sign(body, EventsSecret))]);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => await _app.Client.SendAsync(request);

    private async Task<CustomerProfile?> ProfileAsync(string platform, string id) =>
        (await new TableProfileStore(TestStorage.Clients().Tables, _app.Names).GetAsync(new CustomerKey(platform, id), CancellationToken.None))?.Value;

    private Task<CustomerProfile?> WaitForProfileAsync(string platform, string id, Func<CustomerProfile?, bool> condition) =>
        TestStorage.EventuallyAsync(() => ProfileAsync(platform, id), condition, TimeSpan.FromSeconds(20), $"profile {platform}:{id}");

    private async Task<int> EventRowsAsync() =>
        await TestStorage.Clients().Tables.GetTableClient(_app.Names.Events).QueryAsync<TableEntity>().CountAsync();

    private static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode status, string? bodyStatus = null)
    {
        Assert.Equal(status, response.StatusCode);
        if ((int)status >= 400)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        else if (bodyStatus is not null)
        {
            Assert.Equal(bodyStatus, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task Shopify_EachShopVerifiesWithItsOwnSecret_UnknownShopIs404()
    {
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "customers/create", NudgeTestApp.Customer(3001))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopB, SecretB, "customers/create", NudgeTestApp.Customer(3002))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopB, SecretA, "customers/create", NudgeTestApp.Customer(3003))), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Shopify("stranger.myshopify.com", NudgeTestApp.WebhookSecret, "customers/create", NudgeTestApp.Customer(3004))), HttpStatusCode.NotFound);

        Assert.Equal(ShopB, (await WaitForProfileAsync("shopify", "3002", p => p is not null))!.ShopDomain);
        Assert.Null(await ProfileAsync("shopify", "3003"));
        Assert.Null(await ProfileAsync("shopify", "3004"));
    }

    [Fact]
    public async Task Shopify_OlderCustomerUpdateArrivingLate_DoesNotOverwriteNewerProfile()
    {
        static string Update(string email, string updatedAt) =>
            $$$"""{"id":3010,"email":"{{{email}}}","created_at":"2026-11-01T10:00:00Z","updated_at":"{{{updatedAt}}}","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":{"state":"unsubscribed"}}""";

        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "customers/update", Update("new@example.com", "2026-11-24T12:00:00Z"))), HttpStatusCode.OK, "accepted");
        await WaitForProfileAsync("shopify", "3010", p => p?.Email == "new@example.com");
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "customers/update", Update("old@example.com", "2026-11-24T09:00:00Z"))), HttpStatusCode.OK, "accepted");
        await WaitForProfileAsync("shopify", "3010", p => p?.LastSeenAt == DateTimeOffset.Parse("2026-11-24T12:00:00Z") && p.ContactUpdatedAt == DateTimeOffset.Parse("2026-11-24T12:00:00Z"));
        await _app.WaitForQueuesToDrainAsync();

        Assert.Equal("new@example.com", (await ProfileAsync("shopify", "3010"))!.Email);
    }

    [Fact]
    public async Task Shopify_RefundsCreate_IsAttributedThroughItsOrder_UnknownOrderIs202()
    {
        static string Refund(long orderId) => $$"""{"id":801,"order_id":{{orderId}},"created_at":"2026-11-25T10:00:00Z","transactions":[{"kind":"refund","status":"success","amount":"10000","currency":"KRW"}]}""";

        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "orders/create", NudgeTestApp.Order(9101, 3030))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "refunds/create", Refund(9101))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "refunds/create", Refund(9999))), HttpStatusCode.Accepted);

        var key = TableKey.For(new CustomerKey("shopify", "3030"));
        var types = await TestStorage.EventuallyAsync( // the rows are written when the intake batch is processed
            async () => (await TestStorage.Clients().Tables.GetTableClient(_app.Names.Events).QueryAsync<TableEntity>(e => e.PartitionKey == key).Select(e => e.GetString("Type")).ToListAsync()).Order().ToList(),
            t => t.Count >= 2, TimeSpan.FromSeconds(20), "the order's and the refund's event rows");
        Assert.Equal(["order.placed", "order.refunded"], types);
    }

    [Fact]
    public async Task Shopify_CheckoutUpdate_KeepsTheOpenCartOnTheProfile()
    {
        var body = """{"id":77,"token":"t77","created_at":"2026-11-24T01:00:00Z","updated_at":"2026-11-24T01:10:00Z","currency":"KRW","total_price":"15000","abandoned_checkout_url":"https://shop-a.myshopify.com/r/t77","customer":{"id":3020},"line_items":[{"product_id":5,"variant_id":51,"quantity":1,"price":"15000"}]}""";

        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "checkouts/update", body)), HttpStatusCode.OK, "accepted");

        var profile = await WaitForProfileAsync("shopify", "3020", p => p?.Cart is not null);
        Assert.True(profile!.HasOpenCart);
        Assert.Equal(("https://shop-a.myshopify.com/r/t77", 15000m), (profile.Cart!.RecoveryUrl, profile.Cart.Value!.Amount));
    }

    [Fact]
    public async Task Shopify_ProductsUpdate_ReportsPriceDropsNewestWins()
    {
        static string Product(string price, string updatedAt) => $$"""{"id":5,"updated_at":"{{updatedAt}}","variants":[{"id":51,"price":"{{price}}"}]}""";

        await SendAsync(Shopify(ShopA, SecretA, "products/update", Product("12000", "2026-11-24T01:00:00Z")));
        var drop = await SendAsync(Shopify(ShopA, SecretA, "products/update", Product("9000", "2026-11-24T02:00:00Z")));
        var stale = await SendAsync(Shopify(ShopA, SecretA, "products/update", Product("15000", "2026-11-24T00:30:00Z")));

        Assert.Equal(1, (await drop.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("priceDrops").GetInt32());
        Assert.Equal(0, (await stale.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("priceDrops").GetInt32());
        var row = await TestStorage.Clients().Tables.GetTableClient(_app.Names.Catalog).QueryAsync<TableEntity>(r => r.RowKey == "51").SingleAsync();
        Assert.Equal("9000", row.GetString("Price"));
    }

    [Fact]
    public async Task Shopify_PriceDrop_ReachesOnlyCustomersWhoCartedTheProduct()
    {
        static string Product(string price, string updatedAt) => $$$"""{"id":6,"updated_at":"{{{updatedAt}}}","variants":[{"id":61,"price":"{{{price}}}"}]}""";
        var checkout = """{"id":78,"created_at":"2026-11-24T01:00:00Z","currency":"KRW","total_price":"12000","customer":{"id":3040},"line_items":[{"product_id":6,"variant_id":61,"quantity":1,"price":"12000"}]}""";

        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "checkouts/create", checkout)), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretA, "customers/create", NudgeTestApp.Customer(3041))), HttpStatusCode.OK, "accepted");
        await SendAsync(Shopify(ShopA, SecretA, "products/update", Product("12000", "2026-11-24T01:00:00Z")));
        await SendAsync(Shopify(ShopA, SecretA, "products/update", Product("9000", "2026-11-24T02:00:00Z")));

        var events = TestStorage.Clients().Tables.GetTableClient(_app.Names.Events);
        var drop = await TestStorage.EventuallyAsync(
            () => events.QueryAsync<TableEntity>(e => e.GetString("Type") == "product.price_dropped").ToListAsync().AsTask(),
            rows => rows.Count > 0, TimeSpan.FromSeconds(20), "price-drop event");
        var evt = JsonSerializer.Deserialize<Nudge.Core.Events.CustomerEvent>(Assert.Single(drop).GetString("Event"), Nudge.Core.NudgeJson.Options)!;
        Assert.Equal(("3040", "25", "61"), (evt.Customer.CustomerId, evt.Properties!["dropPercent"], evt.Properties["variantId"]));
    }

    [Fact]
    public async Task Shopify_IntakeCannotStore_Answers503WithRetryAfter_TheRetryIsAcceptedAndProcessed()
    {
        var intake = TestStorage.Clients().Queues.GetQueueClient(_app.Names.Queue(StorageNames.IngestBatchesQueue));
        var customer = NudgeTestApp.Customer(3301);
        await intake.DeleteAsync(); // the storage refuses the write: this service's fault, never the sender's

        var refused = await SendAsync(Shopify(ShopA, SecretA, "customers/create", customer, id: "intake-1"));
        await intake.CreateAsync();
        var retried = await SendAsync(Shopify(ShopA, SecretA, "customers/create", customer, id: "intake-1"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(refused.Headers.RetryAfter);
        await AssertStatusAsync(retried, HttpStatusCode.OK, "accepted");
        Assert.NotNull(await WaitForProfileAsync("shopify", "3301", p => p is not null));
    }

    [Fact]
    public async Task Shopify_SameEventFromTwoSubscriptions_IsStoredOnce_AndAMalformedEventIdIsRejected()
    {
        var customer = NudgeTestApp.Customer(3401);
        HttpRequestMessage Delivery(string shopifyEventId)
        {
            var request = Shopify(ShopA, SecretA, "customers/create", customer); // a webhook id of its own each time
            request.Headers.TryAddWithoutValidation("X-Shopify-Event-Id", shopifyEventId);
            return request;
        }

        var eventId = Guid.NewGuid().ToString();
        await AssertStatusAsync(await SendAsync(Delivery(eventId)), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Delivery(eventId)), HttpStatusCode.OK, "duplicate");
        await AssertStatusAsync(await SendAsync(Delivery("not/an id")), HttpStatusCode.BadRequest);

        Assert.NotNull(await WaitForProfileAsync("shopify", "3401", p => p is not null));
        Assert.Equal(1, await EventRowsAsync());
    }

    [Fact]
    public async Task Shopify_DuringASecretRotation_AcceptsTheNewAndThePreviousSecret_AndNoOther()
    {
        await AssertStatusAsync(await SendAsync(Shopify(ShopRotating, SecretRotatingNew, "customers/create", NudgeTestApp.Customer(3501))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopRotating, SecretRotatingOld, "customers/create", NudgeTestApp.Customer(3502))), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Shopify(ShopRotating, SecretA, "customers/create", NudgeTestApp.Customer(3503))), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Shopify(ShopA, SecretRotatingOld, "customers/create", NudgeTestApp.Customer(3504))), HttpStatusCode.Unauthorized);

        Assert.NotNull(await WaitForProfileAsync("shopify", "3502", p => p is not null));
        Assert.Null(await ProfileAsync("shopify", "3503"));
    }

    [Fact]
    public async Task WooCommerce_PingSignedEventsAndBadInput()
    {
        var ping = await SendAsync(Request("/api/webhooks/woocommerce", "webhook_id=12", "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);

        var customer = """{"id":42,"date_created_gmt":"2026-11-24T01:00:00","date_modified_gmt":"2026-11-24T01:00:00","email":"w@example.com","first_name":"Jin","billing":{"phone":"010-1234-5678"}}""";
        await AssertStatusAsync(await SendAsync(Woo("customer.created", customer, id: "500")), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Woo("customer.created", customer, id: "500")), HttpStatusCode.OK, "duplicate");
        await AssertStatusAsync(await SendAsync(Woo("customer.created", customer.Replace("42", "43"), signature: Sign(customer, WooSecret))), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Woo("customer.created", customer, site: "https://other.example/")), HttpStatusCode.NotFound);
        await AssertStatusAsync(await SendAsync(Woo("customer.created", "{\"id\":")), HttpStatusCode.BadRequest);
        await AssertStatusAsync(await SendAsync(Woo("coupon.created", "{}")), HttpStatusCode.Accepted);

        Assert.Equal("w@example.com", (await WaitForProfileAsync("woocommerce", "42", p => p is not null))!.Email);
        Assert.Null(await ProfileAsync("woocommerce", "43"));
    }

    [Fact]
    public async Task Cafe24_ApiKeyVerifiedMemberJoin_StartsAProfile_WrongKeyAndUnknownMallAreRejected()
    {
        var join = """{"event_no":90032,"resource":{"mall_id":"koreamall","member_id":"minji01","created_date":"2026-11-24T10:00:00+09:00","news_mail":"T","sms":"T"}}""";

        await AssertStatusAsync(await SendAsync(Cafe24(join)), HttpStatusCode.OK, "accepted");
        await AssertStatusAsync(await SendAsync(Cafe24(join.Replace("minji01", "other02"), key: "wrong-key-0000000000000")), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Cafe24(join.Replace("koreamall", "nomall"))), HttpStatusCode.NotFound);

        var profile = await WaitForProfileAsync("cafe24", "minji01", p => p is not null);
        Assert.Equal((true, true), (profile!.Consent.Email, profile.Consent.Sms));
        Assert.Null(await ProfileAsync("cafe24", "other02"));
    }

    [Fact]
    public async Task EventsApi_SignedOrKeyedSingleAndBatch_AreIdempotentByMessageId()
    {
        var identify = """{"type":"identify","messageId":"id-1","userId":"u-1","timestamp":"2026-11-24T01:00:00Z","traits":{"email":"u1@example.com","emailMarketingConsent":true}}""";
        await AssertStatusAsync(await SendAsync(Events("/api/events", identify)), HttpStatusCode.OK, "accepted");
        var keyed = Request("/api/events", identify, headers: [("X-Nudge-Source", EventsSource), ("x-api-key", EventsKey)]);
        await AssertStatusAsync(await SendAsync(keyed), HttpStatusCode.OK, "duplicate");

        var batch = """{"batch":[{"type":"track","event":"Product Viewed","messageId":"b-1","userId":"u-1","timestamp":"2026-11-24T01:01:00Z","properties":{"product_id":"p1"}},{"type":"track","event":"Points Changed","messageId":"b-2","userId":"u-1","timestamp":"2026-11-24T01:02:00Z","properties":{"balance":700}},{"type":"track","event":"Product Viewed","messageId":"b-1","userId":"u-1","timestamp":"2026-11-24T01:01:00Z","properties":{"product_id":"p1"}},{"type":"track","messageId":"b-3"}]}""";
        var response = await SendAsync(Events("/api/events/batch", batch));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var statuses = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("status").GetString()).ToList();
        Assert.Equal("accepted", statuses[1]);
        Assert.Equal("invalid", statuses[3]);
        Assert.Equal(["accepted", "duplicate"], new[] { statuses[0], statuses[2] }.Order()); // the same messageId twice in one batch is taken once
        Assert.Equal(700L, (await WaitForProfileAsync("web", "u-1", p => p?.PointsBalance is not null))!.PointsBalance);
    }

    [Fact]
    public async Task EventsApi_BadAuthUnknownSourceAndOversizedBatch_AreRejected()
    {
        var message = """{"type":"page","messageId":"p-1","userId":"u-2","timestamp":"2026-11-24T01:00:00Z"}""";
        await AssertStatusAsync(await SendAsync(Events("/api/events", message, signature: Sign(message, "wrong"))), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Request("/api/events", message, headers: [("X-Nudge-Source", EventsSource), ("x-api-key", "wrong-key-00000000000")])), HttpStatusCode.Unauthorized);
        await AssertStatusAsync(await SendAsync(Events("/api/events", message, source: "nobody")), HttpStatusCode.NotFound);
        await AssertStatusAsync(await SendAsync(Request("/api/events", message)), HttpStatusCode.BadRequest);
        var tooMany = "{\"batch\":[" + string.Join(",", Enumerable.Repeat(message, EventsApi.MaxBatch + 1)) + "]}";
        await AssertStatusAsync(await SendAsync(Events("/api/events/batch", tooMany)), HttpStatusCode.BadRequest);
        await AssertStatusAsync(await SendAsync(Events("/api/events", message.Replace("2026-11-24T01:00:00Z", "yesterday"))), HttpStatusCode.BadRequest);

        Assert.Equal(0, await EventRowsAsync());
    }

    [Theory]
    [InlineData("/api/webhooks/woocommerce")]
    [InlineData("/api/webhooks/cafe24")]
    [InlineData("/api/events")]
    [InlineData("/api/events/batch")]
    public async Task EveryEndpoint_WrongContentTypeIs415_OverOneMebibyteIs413(string path)
    {
        await AssertStatusAsync(await SendAsync(Request(path, "{}", "text/plain")), HttpStatusCode.UnsupportedMediaType);
        var big = "{\"x\":\"" + new string('a', WebhookIntakeMax) + "\"}";
        await AssertStatusAsync(await SendAsync(Request(path, big)), HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal(0, await EventRowsAsync());
    }

    private const int WebhookIntakeMax = 1024 * 1024;

    /// <summary>Correctly signed but malformed bodies reach every parser: the answer is never a 5xx.</summary>
    [Fact]
    public async Task EveryEndpoint_SignedMalformedBodies_NeverAnswer5xx()
    {
        var values = Gen.Elements("1", "-1", "\"x\"", "null", "[]", "{}", "[{}]", "\"2026-11-24T10:00:00Z\"", "1e400", "99999999999999999999", "true", "{\"id\":1}", "{\"mall_id\":\"koreamall\",\"member_id\":\"m\"}", "\"\\u0000\"");
        var fields = Gen.Elements("id", "created_at", "updated_at", "customer", "customer_id", "line_items", "variants", "status", "date_created_gmt", "event_no", "resource", "type", "messageId", "userId", "timestamp", "event", "properties", "batch", "shop_domain");
        var bodies = Gen.OneOf(
                Gen.ListOf(Gen.Zip(fields, values)).Select(pairs => "{" + string.Join(",", pairs.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}"),
                Gen.Elements("", "{", "[]", "null", "\"s\"", "{\"batch\":{}}", "{\"batch\":[1,2]}"))
            .Sample(40, 0);
        string[] shopifyTopics = ["customers/create", "customers/update", "orders/paid", "checkouts/update", "products/update", "customers/redact", "shop/redact"];

        var statuses = new List<int>();
        foreach (var (body, i) in bodies.Select((b, i) => (b, i)))
        {
            statuses.Add((int)(await SendAsync(Shopify(ShopA, SecretA, shopifyTopics[i % shopifyTopics.Length], body))).StatusCode);
            statuses.Add((int)(await SendAsync(Woo(i % 2 == 0 ? "order.updated" : "customer.updated", body))).StatusCode);
            statuses.Add((int)(await SendAsync(Cafe24(body))).StatusCode);
            statuses.Add((int)(await SendAsync(Events(i % 2 == 0 ? "/api/events" : "/api/events/batch", body))).StatusCode);
        }

        Assert.All(statuses, s => Assert.InRange(s, 200, 499));
    }
}
