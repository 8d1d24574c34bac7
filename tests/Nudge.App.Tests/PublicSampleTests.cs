using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Storage;
using Nudge.Testing;
using static Nudge.App.Tests.IngestSourcesTests;

namespace Nudge.App.Tests;

/// <summary>
/// The platforms' own published sample bodies (Fixtures/, sources in Fixtures/SOURCES.md), signed and sent through
/// the real endpoints: each is acknowledged 2xx, and each of a handled topic becomes the expected event and profile
/// change. What a sample cannot be attributed to (a guest, a cart without a customer) is acknowledged with the reason.
/// </summary>
public class PublicSampleTests : IAsyncLifetime
{
    private const string Shop = "sample-shop.myshopify.com";
    private const string ShopSecret = "sample-shop-secret";
    private const string Site = "woo-sample.example";
    private const string SiteSecret = "woo-sample-secret";
    private const string Mall = "cafe24bestshop";
    private const string MallKey = "cafe24bestshop-api-key-01";

    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>
    {
        ["Shops:0:Platform"] = "shopify", ["Shops:0:Domain"] = Shop, ["Shops:0:WebhookSecret"] = ShopSecret,
        ["Shops:1:Platform"] = "woocommerce", ["Shops:1:Domain"] = Site, ["Shops:1:WebhookSecret"] = SiteSecret,
        ["Shops:2:Platform"] = "cafe24", ["Shops:2:Domain"] = Mall, ["Shops:2:ApiKey"] = MallKey,
    });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    public static string Fixture(string path) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", path));

    [Fact]
    public async Task Shopify_EveryPublishedSample_IsAcknowledged_AndEachHandledTopicIsMapped()
    {
        // Customers: the reference sample, then Shopify's "send test notification" body (created_at null) under the
        // newer header names without the X- prefix, dated by its trigger time.
        await Accepted(SendShopify("customers/create", "customers-create.json"));
        var profile = await Profile("shopify", "706405506930370084", p => p?.SignedUpAt is not null);
        Assert.Equal(("bob@biller.com", "Bob", DateTimeOffset.Parse("2021-12-31T19:00:00-05:00")), (profile.Email, profile.FirstName, profile.SignedUpAt));

        var triggeredAt = "2026-11-24T01:02:03.123456789Z";
        var answer = await Accepted(SendShopify("customers/create", "customers-create-test-notification.json", prefixed: false, triggeredAt: triggeredAt));
        Assert.Contains("trigger time", answer.GetProperty("degraded")[0].GetString());

        await Accepted(SendShopify("customers/update", "customers-update.json"));
        await Profile("shopify", "706405506930370084", p => p!.LastEventAt.TryGet(EventTypes.CustomerUpdated, out _));

        // Consent topics (API 2025-01 on): a null state says nothing, and the address the sample leaves out erases nothing.
        await Accepted(SendShopify("customers_email_marketing_consent/update", "customers_email_marketing_consent-update.json"));
        await Accepted(SendShopify("customers_marketing_consent/update", "customers_marketing_consent-update.json"));

        // Checkouts carry the cart and the recovery URL of the customer they name.
        await Accepted(SendShopify("checkouts/create", "checkouts-create.json"));
        await Accepted(SendShopify("checkouts/update", "checkouts-update.json"));
        var shopper = await Profile("shopify", "603851970716743426", p => p?.Cart is not null);
        Assert.Equal((2, "https://checkout.local/548380009/checkouts/123123123/recover?key=example-secret-token"), (shopper.Cart!.Items.Count, shopper.Cart.RecoveryUrl));

        // Orders: placed, paid, cancelled; then the refund, attributed through its order.
        await Accepted(SendShopify("orders/create", "orders-create.json"));
        var buyer = await Profile("shopify", "115310627314723954", p => p?.FirstOrderAt is not null);
        Assert.Equal(DateTimeOffset.Parse("2021-12-31T19:00:00-05:00"), buyer.FirstOrderAt);
        await Accepted(SendShopify("orders/paid", "orders-paid.json"));
        await Accepted(SendShopify("orders/cancelled", "orders-cancelled.json"));
        await Accepted(SendShopify("refunds/create", "refunds-create.json"));
        await Profile("shopify", "115310627314723954", p => p!.LastEventAt.TryGet(EventTypes.OrderRefunded, out _)
            && p.LastEventAt.TryGet(EventTypes.OrderCancelled, out _) && p.LastEventAt.TryGet(EventTypes.OrderPaid, out _));

        // The reference cart names no customer: acknowledged, attributed through its checkout instead (a documented limit).
        await Ignored(SendShopify("carts/update", "carts-update.json"), "without a customer");

        var product = await SendShopify("products/update", "products-update.json");
        Assert.Equal(HttpStatusCode.OK, product.StatusCode);
        Assert.Equal("accepted", (await product.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());

        // Privacy: the sample's shop_domain is a placeholder; the shop is the one the signed header names.
        foreach (var (topic, file) in new[] { ("customers/data_request", "customers-data_request.json"), ("customers/redact", "customers-redact.json"), ("shop/redact", "shop-redact.json") })
        {
            var privacy = await SendShopify(topic, file);
            Assert.Equal(HttpStatusCode.OK, privacy.StatusCode);
            Assert.True((await privacy.Content.ReadFromJsonAsync<JsonElement>()).TryGetProperty("requestId", out _), topic);
        }
    }

    [Fact]
    public async Task WooCommerce_EveryPublishedSample_IsAcknowledged_AndEachHandledTopicIsMapped()
    {
        // REST API v3 (the resource itself); delivery ids are hash strings, as WooCommerce sends them.
        await Accepted(SendWoo("customer.created", "customer.created.json", "36e520ebabc2fa725092ff4a47acedf2"));
        var customer = await Profile("woocommerce", "25", p => p?.SignedUpAt is not null);
        Assert.Equal(("john.doe@example.com", "(555) 555-5555", DateTimeOffset.Parse("2017-03-21T19:09:28Z")), (customer.Email, customer.Phone, customer.SignedUpAt));
        await Accepted(SendWoo("customer.updated", "customer.updated.json"));
        await Profile("woocommerce", "25", p => p!.ContactUpdatedAt == DateTimeOffset.Parse("2017-03-21T19:12:28Z"));

        // The REST samples' orders are guest checkouts (customer_id 0): acknowledged, not attributed (README: guests).
        await Ignored(SendWoo("order.created", "order.created.json"), "guest");
        await Ignored(SendWoo("order.updated", "order.updated.json"), "guest");

        var product = await SendWoo("product.updated", "product.updated.json");
        Assert.Equal(HttpStatusCode.OK, product.StatusCode);

        // A deleted resource arrives as {"id": N} under its *.deleted topic.
        await Ignored(SendWoo("customer.deleted", "customer.deleted.json"), "not used");

        // Webhooks set to the legacy API wrap the resource: {"customer": {...}}, {"order": {...}}.
        await Accepted(SendWoo("customer.created", "legacy-customer.created.json"));
        var legacy = await Profile("woocommerce", "2", p => p?.SignedUpAt is not null);
        Assert.Equal(("john.doe@example.com", DateTimeOffset.Parse("2015-01-05T18:34:19Z")), (legacy.Email, legacy.SignedUpAt));
        await Accepted(SendWoo("order.created", "legacy-order.created.json"));
        await Accepted(SendWoo("order.updated", "legacy-order.updated.json"));
        var buyer = await Profile("woocommerce", "2", p => p!.FirstOrderAt is not null && p.LastEventAt.TryGet(EventTypes.OrderPaid, out _));
        Assert.Equal(DateTimeOffset.Parse("2015-01-26T20:00:21Z"), buyer.FirstOrderAt);
    }

    [Fact]
    public async Task Cafe24_EveryPublishedSampleOfAHandledEvent_IsMapped_MemberChangesReachTheConsentLedger()
    {
        await Accepted(SendCafe24(Fixture("cafe24/90032.json")));
        var member = await Profile("cafe24", "gdhong", p => p?.SignedUpAt is not null);
        Assert.Equal(("gdhong@cafe24corp.com", "010-2468-2468", new MarketingConsent(true, true, false)), (member.Email, member.Phone, member.Consent));

        // The published member-change sample has neither event_no nor resource nor a time: recognised by diff_key,
        // dated by its receipt (said in the answer). The same change carrying news_mail = F withdraws email consent,
        // and the ledger records it.
        var change = await Accepted(SendCafe24(Fixture("cafe24/90080.json")));
        Assert.Contains("received", change.GetProperty("degraded")[0].GetString());
        await Accepted(SendCafe24(Fixture("cafe24/90080.json").Replace("\"sub_event_code\"", "\"news_mail\": \"F\", \"sub_event_code\"")));
        await Profile("cafe24", "gdhong", p => p!.Consent == new MarketingConsent(false, true, false));
        var ledger = new TableConsentLedger(TestStorage.Clients().Tables, _app.Names);
        var withdrawal = Assert.Single(await ledger.ListAsync(new CustomerKey("cafe24", "gdhong"), CancellationToken.None));
        Assert.Equal((ConsentMedia.Email, false), (withdrawal.Medium, withdrawal.Granted));

        foreach (var (file, type) in new[]
        {
            ("90023.json", EventTypes.OrderPlaced), ("90025.json", EventTypes.OrderPaid), ("90024.json", EventTypes.OrderFulfilled),
            ("90026.json", EventTypes.OrderCancelled), ("90029.json", EventTypes.OrderRefunded),
        })
        {
            await Accepted(SendCafe24(Fixture("cafe24/" + file)));
            await Profile("cafe24", "gdhong", p => p!.LastEventAt.TryGet(type, out _));
        }

        // Each status is dated by its own field: the order by order_date, the payment by payment_date.
        var orders = (await Profile("cafe24", "gdhong", p => p!.FirstOrderAt is not null)).LastEventAt;
        Assert.True(orders.TryGet(EventTypes.OrderPlaced, out var placedAt));
        Assert.True(orders.TryGet(EventTypes.OrderPaid, out var paidAt));
        Assert.Equal((DateTimeOffset.Parse("2020-07-17T15:28:14+09:00"), DateTimeOffset.Parse("2020-07-17T15:24:07+09:00")), (placedAt, paidAt));

        await Accepted(SendCafe24(Fixture("cafe24/90143.json")));
        await Accepted(SendCafe24(Fixture("cafe24/90084.json")));
        var shopper = await Profile("cafe24", "sampleid", p => p?.LastLoginAt is not null && p.Cart is not null);
        Assert.Equal(("781", "P0000BEB000A", 1), (shopper.Cart!.Items[0].ProductId, shopper.Cart.Items[0].VariantId, shopper.Cart.Items[0].Quantity));

        await Accepted(SendCafe24(Fixture("cafe24/90148.json")));
        var points = await Profile("cafe24", "sampleid1", p => p?.PointsBalance is not null);
        Assert.Equal((1000L, DateTimeOffset.Parse("2022-01-25T16:54:45+09:00")), (points.PointsBalance!.Value, points.PointsUpdatedAt!.Value));

        var product = await SendCafe24(Fixture("cafe24/90001.json"));
        Assert.Equal(HttpStatusCode.OK, product.StatusCode);
    }

    private Task<HttpResponseMessage> SendShopify(string topic, string file, bool prefixed = true, string? triggeredAt = null)
    {
        var body = Fixture("shopify/" + file);
        var prefix = prefixed ? "X-Shopify-" : "Shopify-";
        var headers = new List<(string, string)>
        {
            (prefix + "Topic", topic), (prefix + "Shop-Domain", Shop), (prefix + "Webhook-Id", Guid.NewGuid().ToString()),
            (prefix + "Hmac-Sha256", Sign(body, ShopSecret)),
        };
        if (triggeredAt is not null)
        {
            headers.Add((prefix + "Triggered-At", triggeredAt));
        }

        return _app.Client.SendAsync(Request("/api/webhooks/shopify", body, headers: [.. headers]));
    }

    private Task<HttpResponseMessage> SendWoo(string topic, string file, string? deliveryId = null)
    {
        var body = Fixture("woocommerce/" + file);
        return _app.Client.SendAsync(Request("/api/webhooks/woocommerce", body, headers:
            [("X-WC-Webhook-Topic", topic), ("X-WC-Webhook-Source", $"https://{Site}/"), ("X-WC-Webhook-Delivery-ID", deliveryId ?? Guid.NewGuid().ToString("N")), ("X-WC-Webhook-Signature", Sign(body, SiteSecret))]));
    }

    private Task<HttpResponseMessage> SendCafe24(string body) =>
        _app.Client.SendAsync(Request("/api/webhooks/cafe24", body, headers: [("X-Api-Key", MallKey), ("X-Trace-Id", Guid.NewGuid().ToString())]));

    private static async Task<JsonElement> Accepted(Task<HttpResponseMessage> sending)
    {
        using var response = await sending;
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {answer}");
        Assert.Equal("accepted", answer.GetProperty("status").GetString());
        return answer;
    }

    private static async Task Ignored(Task<HttpResponseMessage> sending, string reason)
    {
        using var response = await sending;
        var answer = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {answer}");
        Assert.Contains(reason, answer.GetProperty("reason").GetString());
    }

    private async Task<CustomerProfile> Profile(string platform, string id, Func<CustomerProfile?, bool> condition)
    {
        var store = new TableProfileStore(TestStorage.Clients().Tables, _app.Names);
        return (await TestStorage.EventuallyAsync(
            async () => (await store.GetAsync(new CustomerKey(platform, id), CancellationToken.None))?.Value,
            condition, TimeSpan.FromSeconds(60), $"profile {platform}:{id}"))!;
    }
}
