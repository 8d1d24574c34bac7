using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nudge.Core.Events;
using Nudge.Core.Ingest;

namespace Nudge.Core.Tests;

/// <summary>Each source's topics map to the one internal model; bad payloads are Invalid, never an exception.</summary>
public class SourceMappingTests
{
    private const string Shop = "demo.myshopify.com";

    private static T As<T>(IngestParse parse) => Assert.IsType<T>(parse);

    private static CustomerEvent Shopify(string topic, string body) =>
        As<IngestParse.Mapped>(ShopifyWebhook.Parse(topic, Shop, "d-1", Encoding.UTF8.GetBytes(body))).Event;

    private const string OrderJson = """{"id":99,"created_at":"2026-11-24T11:00:00+09:00","processed_at":"2026-11-24T11:01:00+09:00","cancelled_at":"2026-11-25T09:00:00+09:00","currency":"KRW","total_price":"39000.50","customer":{"id":7001},"line_items":[{"product_id":5,"variant_id":51,"quantity":2,"price":"19500.25","title":"Tea"}]}""";

    [Fact]
    public void Shopify_CustomersUpdate_MapsConsentAndUsesUpdatedAtAsOccurredAt()
    {
        var evt = Shopify("customers/update", """{"id":7001,"created_at":"2026-11-01T10:00:00Z","updated_at":"2026-11-24T10:00:00Z","email":"m@example.com","email_marketing_consent":{"state":"unsubscribed"},"sms_marketing_consent":{"state":"subscribed","phone":"+821011112222"}}""");

        Assert.Equal((EventTypes.CustomerUpdated, DateTimeOffset.Parse("2026-11-24T10:00:00Z")), (evt.Type, evt.OccurredAt));
        Assert.Equal((false, true, "+821011112222"), (evt.Contact!.Consent!.Email, evt.Contact.Consent.Sms, evt.Contact.Phone));
        Assert.Equal(evt.OccurredAt, evt.Contact.UpdatedAt);
    }

    [Theory]
    [InlineData("orders/create", EventTypes.OrderPlaced, "2026-11-24T02:00:00Z")]
    [InlineData("orders/paid", EventTypes.OrderPaid, "2026-11-24T02:01:00Z")]
    [InlineData("orders/cancelled", EventTypes.OrderCancelled, "2026-11-25T00:00:00Z")]
    public void Shopify_OrderTopics_MapTypeTimeMoneyAndLines(string topic, string type, string occurredAt)
    {
        var evt = Shopify(topic, OrderJson);

        Assert.Equal((type, DateTimeOffset.Parse(occurredAt), "99", "7001"), (evt.Type, evt.OccurredAt, evt.SubjectId, evt.Customer.CustomerId));
        Assert.Equal(new Money(39000.50m, "KRW"), evt.Value);
        Assert.Equal(new LineItem("5", "51", 2, new Money(19500.25m, "KRW"), "Tea"), Assert.Single(evt.Items!));
    }

    [Fact]
    public void Shopify_RefundsCreate_IsScopedToItsOrderWithTheRefundedAmount()
    {
        var parse = As<IngestParse.OrderScoped>(ShopifyWebhook.Parse("refunds/create", Shop, "d-3", """{"id":801,"order_id":99,"created_at":"2026-11-25T10:00:00+09:00","transactions":[{"kind":"refund","status":"success","amount":"10000.00","currency":"KRW"},{"kind":"refund","status":"failure","amount":"5000.00","currency":"KRW"},{"kind":"refund","status":"success","amount":"2500.50","currency":"KRW"}]}"""u8));

        Assert.Equal(("99", EventTypes.OrderRefunded, "99"), (parse.OrderId, parse.Event.Type, parse.Event.SubjectId));
        Assert.Equal(new Money(12500.50m, "KRW"), parse.Event.Value);
        Assert.IsType<IngestParse.Ignored>(ShopifyWebhook.Parse("refunds/create", Shop, "d", """{"id":801,"created_at":"2026-11-25T10:00:00Z"}"""u8));
    }

    [Theory]
    [InlineData("checkouts/create", EventTypes.CheckoutStarted, "2026-11-24T01:00:00Z")]
    [InlineData("checkouts/update", EventTypes.CheckoutUpdated, "2026-11-24T01:30:00Z")]
    public void Shopify_Checkouts_CarryCartAndRecoveryUrl(string topic, string type, string occurredAt)
    {
        var evt = Shopify(topic, """{"id":123,"token":"abc","created_at":"2026-11-24T01:00:00Z","updated_at":"2026-11-24T01:30:00Z","currency":"KRW","total_price":"15000","abandoned_checkout_url":"https://demo.myshopify.com/1/checkouts/abc/recover","customer":{"id":7001},"line_items":[{"product_id":5,"variant_id":51,"quantity":1,"price":"15000"}]}""");

        Assert.Equal((type, DateTimeOffset.Parse(occurredAt), "123"), (evt.Type, evt.OccurredAt, evt.SubjectId));
        Assert.Equal("https://demo.myshopify.com/1/checkouts/abc/recover", evt.Url);
        Assert.Equal((new Money(15000m, "KRW"), 1), (evt.Value, evt.Items!.Count));
    }

    [Fact]
    public void Shopify_GuestCheckoutAndCartWithoutCustomer_AreIgnored()
    {
        Assert.IsType<IngestParse.Ignored>(ShopifyWebhook.Parse("checkouts/create", Shop, "d", """{"id":1,"created_at":"2026-11-24T01:00:00Z","customer":null}"""u8));
        Assert.IsType<IngestParse.Ignored>(ShopifyWebhook.Parse("carts/update", Shop, "d", """{"token":"c1","updated_at":"2026-11-24T01:00:00Z","line_items":[]}"""u8));
        Assert.Equal(EventTypes.CartUpdated, Shopify("carts/update", """{"token":"c1","updated_at":"2026-11-24T01:00:00Z","customer":{"id":7001},"line_items":[{"product_id":5,"quantity":1}]}""").Type);
    }

    [Fact]
    public void Shopify_ProductsUpdate_IsACatalogUpdatePerVariant()
    {
        var update = As<IngestParse.Catalog>(ShopifyWebhook.Parse("products/update", Shop, "d", """{"id":5,"updated_at":"2026-11-24T01:00:00Z","variants":[{"id":51,"price":"9000.00","compare_at_price":"12000.00"},{"id":52,"price":"11000"},{"id":53}]}"""u8)).Update;

        Assert.Equal(("5", 2), (update.ProductId, update.Variants.Count));
        Assert.Equal(new VariantPrice("51", 9000m, 12000m), update.Variants[0]);
    }

    [Theory]
    [InlineData("products/create")]
    [InlineData("products/update")]
    public void Shopify_Products_CarryWhatAMessageShowsOfThem(string topic)
    {
        var body = """{"id":5,"title":"Wool socks","handle":"wool-socks","status":"active","published_at":"2026-11-01T00:00:00Z","updated_at":"2026-11-24T01:00:00Z","image":{"src":"https://cdn.example/socks.jpg"},"variants":[{"id":51,"price":"9000","inventory_management":"shopify","inventory_policy":"deny","inventory_quantity":0},{"id":52,"price":"8000","inventory_management":"shopify","inventory_policy":"deny","inventory_quantity":3}]}""";

        var facts = As<IngestParse.Catalog>(ShopifyWebhook.Parse(topic, Shop, "d", Encoding.UTF8.GetBytes(body))).Update.Facts!;

        Assert.Equal(new ProductFacts("Wool socks", $"https://{Shop}/products/wool-socks", "https://cdn.example/socks.jpg", 8000m, null, Published: true, InStock: true), facts);
    }

    [Theory]
    [InlineData("\"status\":\"draft\",\"published_at\":\"2026-11-01T00:00:00Z\"", "3", false, true)]
    [InlineData("\"status\":\"active\",\"published_at\":null", "3", false, true)]
    [InlineData("\"status\":\"active\",\"published_at\":\"2026-11-01T00:00:00Z\"", "0", true, false)]
    public void Shopify_Products_UnpublishedOrSoldOutAreNotSellable(string state, string quantity, bool published, bool inStock)
    {
        var body = $$"""{"id":5,"title":"Socks",{{state}},"updated_at":"2026-11-24T01:00:00Z","variants":[{"id":51,"price":"9000","inventory_management":"shopify","inventory_policy":"deny","inventory_quantity":{{quantity}}}]}""";

        var facts = As<IngestParse.Catalog>(ShopifyWebhook.Parse("products/update", Shop, "d", Encoding.UTF8.GetBytes(body))).Update.Facts!;

        Assert.Equal((published, inStock, false), (facts.Published, facts.InStock, facts.Sellable));
    }

    [Theory]
    [InlineData("customers/redact", PrivacyRequestKind.RedactCustomer, "7001")]
    [InlineData("customers/data_request", PrivacyRequestKind.DataRequest, "7001")]
    [InlineData("shop/redact", PrivacyRequestKind.RedactShop, null)]
    public void Shopify_PrivacyTopics_MapToPrivacyRequests(string topic, PrivacyRequestKind kind, string? customerId)
    {
        var body = """{"shop_id":1,"shop_domain":"demo.myshopify.com","customer":{"id":7001,"email":"m@example.com","phone":"+821012345678"},"orders_to_redact":[99],"data_request":{"id":5}}""";

        var request = As<IngestParse.Privacy>(ShopifyWebhook.Parse(topic, Shop, "d-9", Encoding.UTF8.GetBytes(body))).Request;

        Assert.Equal(new PrivacyRequest(kind, "shopify", Shop, customerId, "shopify-d-9"), request);
    }

    [Fact]
    public void Shopify_PrivacyRequestNamingAnotherShopDomain_ActsForTheShopWhoseSecretSignedIt()
    {
        // Shopify's own sample carries "{shop}.myshopify.com" there; the signed header is what identifies the shop.
        var request = As<IngestParse.Privacy>(ShopifyWebhook.Parse("shop/redact", Shop, "d", """{"shop_id":1,"shop_domain":"other.myshopify.com"}"""u8)).Request;

        Assert.Equal((PrivacyRequestKind.RedactShop, Shop), (request.Kind, request.ShopDomain));
    }

    [Fact]
    public void WooCommerce_CustomerCreated_MapsContactWithoutConsent()
    {
        var evt = As<IngestParse.Mapped>(WooCommerceWebhook.Parse("customer.created", "shop.example", "17", """{"id":42,"date_created_gmt":"2026-11-24T01:00:00","date_modified_gmt":"2026-11-24T01:00:00","email":"w@example.com","first_name":"Jin","billing":{"phone":"010-1234-5678"}}"""u8)).Event;

        Assert.Equal(("woocommerce", "42", EventTypes.CustomerSignedUp, "woocommerce-shop.example-17"), (evt.Customer.Platform, evt.Customer.CustomerId, evt.Type, evt.EventId));
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T01:00:00Z"), evt.OccurredAt);
        Assert.Equal(("w@example.com", "010-1234-5678", (Customers.MarketingConsent?)null), (evt.Contact!.Email, evt.Contact.Phone, evt.Contact.Consent));
    }

    [Theory]
    [InlineData("order.created", "pending", EventTypes.OrderPlaced)]
    [InlineData("order.updated", "processing", EventTypes.OrderPaid)]
    [InlineData("order.updated", "cancelled", EventTypes.OrderCancelled)]
    [InlineData("order.updated", "refunded", EventTypes.OrderRefunded)]
    public void WooCommerce_OrderTopicsAndStatuses_MapToOrderEvents(string topic, string status, string type)
    {
        var body = $$"""{"id":900,"status":"{{status}}","currency":"KRW","total":"25000","customer_id":42,"date_created_gmt":"2026-11-24T01:00:00","date_modified_gmt":"2026-11-24T03:00:00","date_paid_gmt":"2026-11-24T02:00:00","line_items":[{"product_id":7,"variation_id":0,"quantity":1,"price":25000,"name":"Mug"}]}""";

        var evt = As<IngestParse.Mapped>(WooCommerceWebhook.Parse(topic, "shop.example", "18", Encoding.UTF8.GetBytes(body))).Event;

        Assert.Equal((type, "900", new Money(25000m, "KRW")), (evt.Type, evt.SubjectId, evt.Value));
        Assert.Equal(new LineItem("7", null, 1, new Money(25000m, "KRW"), "Mug"), Assert.Single(evt.Items!));
    }

    [Fact]
    public void WooCommerce_GuestOrderOnHoldStatusAndPing_AreRecognised()
    {
        Assert.IsType<IngestParse.Ignored>(WooCommerceWebhook.Parse("order.created", "s.example", "1", """{"id":1,"customer_id":0,"date_created_gmt":"2026-11-24T01:00:00"}"""u8));
        Assert.IsType<IngestParse.Ignored>(WooCommerceWebhook.Parse("order.updated", "s.example", "1", """{"id":1,"status":"on-hold","customer_id":4,"date_created_gmt":"2026-11-24T01:00:00"}"""u8));
        Assert.True(WooCommerceWebhook.IsPing("webhook_id=12"u8));
        Assert.False(WooCommerceWebhook.IsPing("""{"webhook_id":12}"""u8));
        Assert.Equal("shop.example", WooCommerceWebhook.ShopOf("https://Shop.Example/"));
    }

    [Fact]
    public void WooCommerce_ProductUpdated_IsACatalogUpdate()
    {
        var update = As<IngestParse.Catalog>(WooCommerceWebhook.Parse("product.updated", "s.example", "1", """{"id":7,"price":"9000","regular_price":"12000","date_modified_gmt":"2026-11-24T01:00:00"}"""u8)).Update;

        Assert.Equal(new VariantPrice("7", 9000m, 12000m), Assert.Single(update.Variants));
    }

    [Theory]
    [InlineData("product.created")]
    [InlineData("product.updated")]
    public void WooCommerce_Products_CarryWhatAMessageShowsOfThem(string topic)
    {
        var body = """{"id":7,"name":"Tea cup","permalink":"https://s.example/product/tea-cup/","status":"publish","stock_status":"outofstock","price":"9000","date_modified_gmt":"2026-11-24T01:00:00","images":[{"src":"https://s.example/cup.jpg"}]}"""u8;

        var facts = As<IngestParse.Catalog>(WooCommerceWebhook.Parse(topic, "s.example", "1", body)).Update.Facts!;

        Assert.Equal(new ProductFacts("Tea cup", "https://s.example/product/tea-cup/", "https://s.example/cup.jpg", 9000m, null, Published: true, InStock: false), facts);
    }

    [Fact]
    public void Cafe24_ProductEvent_CarriesWhatAMessageShowsOfIt()
    {
        var body = """{"event_no":90002,"resource":{"mall_id":"koreamall","product_no":12,"product_name":"녹차","price":"15000.00","display":"T","selling":"F","sold_out":"F","detail_image":"https://img.example/12.jpg","updated_date":"2026-11-24T10:00:00+09:00"}}"""u8;

        var facts = As<IngestParse.Catalog>(Cafe24Webhook.Parse("koreamall", "t-2", body, Cafe24Webhook.DefaultEvents)).Update.Facts!;

        Assert.Equal(new ProductFacts("녹차", "https://koreamall.cafe24.com/product/detail.html?product_no=12", "https://img.example/12.jpg", 15000m, "KRW", Published: false, InStock: true), facts);
    }

    [Fact]
    public void Cafe24_MemberJoined_MapsMemberContactAndYesNoConsent()
    {
        var body = """{"event_no":90032,"resource":{"mall_id":"koreamall","member_id":"minji01","created_date":"2026-11-24T10:00:00+09:00","email":"m@example.com","cellphone":"010-1111-2222","news_mail":"T","sms":"F"}}"""u8;

        var evt = As<IngestParse.Mapped>(Cafe24Webhook.Parse("koreamall", "t-1", body, Cafe24Webhook.DefaultEvents)).Event;

        Assert.Equal(("cafe24", "minji01", EventTypes.CustomerSignedUp, "cafe24-koreamall-t-1"), (evt.Customer.Platform, evt.Customer.CustomerId, evt.Type, evt.EventId));
        Assert.Equal((true, false), (evt.Contact!.Consent!.Email, evt.Contact.Consent.Sms));
        Assert.Equal("koreamall", Cafe24Webhook.MallIdOf(body));
    }

    [Fact]
    public void Cafe24_OrderPointsAndUnknownEvents_Map()
    {
        var order = As<IngestParse.Mapped>(Cafe24Webhook.Parse("m", "t", """{"event_no":90023,"resource":{"mall_id":"m","member_id":"u1","order_id":"20261124-0000001","order_date":"2026-11-24T10:00:00+09:00","payment_amount":"45000.00"}}"""u8, Cafe24Webhook.DefaultEvents)).Event;
        var points = As<IngestParse.Mapped>(Cafe24Webhook.Parse("m", "t", """{"event_no":90148,"resource":{"mall_id":"m","member_id":"u1","issue_datetime":"2026-11-24 10:00:00","avail_mileage":1200}}"""u8, Cafe24Webhook.DefaultEvents)).Event;

        Assert.Equal((EventTypes.OrderPlaced, new Money(45000m, "KRW"), "20261124-0000001"), (order.Type, order.Value, order.SubjectId));
        Assert.Equal((EventTypes.PointsChanged, 1200L, DateTimeOffset.Parse("2026-11-24T10:00:00+09:00")), (points.Type, points.PointsBalance, points.OccurredAt));
        Assert.IsType<IngestParse.Ignored>(Cafe24Webhook.Parse("m", "t", """{"event_no":1,"resource":{"mall_id":"m"}}"""u8, Cafe24Webhook.DefaultEvents));
    }

    [Fact]
    public void ReconcileMapping_Cafe24AdminRecords_MapAsTheWebhookEventsWithTheSameSubjects()
    {
        var map = Nudge.Core.Pipeline.ReconcileMapping.All[Cafe24Webhook.Platform];
        var member = """{"member_id":"minji01","created_date":"2026-11-24T10:00:00+09:00","email":"m@example.com","news_mail":"F","sms":"T"}"""u8.ToArray();
        var order = """{"order_id":"20261124-0000001","member_id":"minji01","order_date":"2026-11-24T11:00:00+09:00","actual_payment_amount":"45000.00"}"""u8.ToArray();
        var webhook = As<IngestParse.Mapped>(Cafe24Webhook.Parse("koreamall", "t-1", """{"event_no":90032,"resource":{"mall_id":"koreamall","member_id":"minji01","created_date":"2026-11-24T10:00:00+09:00"}}"""u8, Cafe24Webhook.DefaultEvents)).Event;

        var signup = As<IngestParse.Mapped>(map.Parse(map.SignupTopic, "koreamall", "reconcile:customer:minji01", member)).Event;
        var placed = As<IngestParse.Mapped>(map.Parse(map.OrderTopic, "koreamall", "reconcile:order:20261124-0000001", order)).Event;

        Assert.Equal((EventTypes.CustomerSignedUp, webhook.Customer, webhook.SubjectId, "cafe24-koreamall-reconcile:customer:minji01"), (signup.Type, signup.Customer, signup.SubjectId, signup.EventId));
        Assert.Equal((false, true), (signup.Contact!.Consent!.Email, signup.Contact.Consent.Sms));
        Assert.Equal((EventTypes.OrderPlaced, "20261124-0000001", new Money(45000m, "KRW")), (placed.Type, placed.SubjectId, placed.Value));
        Assert.Equal(("member_id", "order_id"), (map.CustomerIdField, map.OrderIdField));
    }

    [Fact]
    public void Cafe24_DeliveryId_IsTheHeaderOrADeterministicBodyHash()
    {
        Assert.Equal("trace-1", Cafe24Webhook.DeliveryIdOf("trace-1", "{}"u8));
        Assert.Equal(Cafe24Webhook.DeliveryIdOf(null, "{\"a\":1}"u8), Cafe24Webhook.DeliveryIdOf("", "{\"a\":1}"u8));
        Assert.NotEqual(Cafe24Webhook.DeliveryIdOf(null, "{\"a\":1}"u8), Cafe24Webhook.DeliveryIdOf(null, "{\"a\":2}"u8));
    }

    [Fact]
    public void EventsApi_IdentifyAndTrack_MapSegmentShapes()
    {
        var (identify, _) = EventsApi.ParseSingle("site1", "web", """{"type":"identify","messageId":"m-1","userId":"u-9","timestamp":"2026-11-24T01:00:00Z","traits":{"email":"e@example.com","emailMarketingConsent":true,"smsMarketingConsent":false}}"""u8);
        var (viewed, id) = EventsApi.ParseSingle("site1", "cafe24", """{"type":"track","event":"Product Viewed","messageId":"m-2","userId":"u-9","timestamp":"2026-11-24T01:05:00Z","properties":{"product_id":"p-1","price":9900,"currency":"krw","name":"Socks"}}"""u8);
        var (points, _) = EventsApi.ParseSingle("site1", "web", """{"type":"track","event":"Points Changed","messageId":"m-3","userId":"u-9","timestamp":"2026-11-24T01:06:00Z","properties":{"balance":3000}}"""u8);

        var contact = As<IngestParse.Mapped>(identify).Event.Contact!;
        Assert.Equal(("e@example.com", true, false), (contact.Email, contact.Consent!.Email, contact.Consent.Sms));
        var view = As<IngestParse.Mapped>(viewed).Event;
        Assert.Equal((EventTypes.ProductViewed, "cafe24", "events-site1-m-2", "m-2"), (view.Type, view.Customer.Platform, view.EventId, id));
        Assert.Equal(new LineItem("p-1", null, 1, new Money(9900m, "KRW"), "Socks"), Assert.Single(view.Items!));
        Assert.Equal(3000L, As<IngestParse.Mapped>(points).Event.PointsBalance);
    }

    [Theory]
    [InlineData("""{"type":"track","event":"Product Viewed","userId":"u","timestamp":"2026-11-24T01:00:00Z"}""")]  // no messageId
    [InlineData("""{"type":"track","event":"Product Viewed","messageId":"m","userId":"u"}""")]                    // no timestamp
    [InlineData("""{"type":"alias","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z"}""")]         // unknown call
    [InlineData("""{"type":"track","event":"Product Viewed","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z","properties":{"name":"Socks"}}""")] // no product_id
    [InlineData("""{"type":"track","event":"Product Viewed","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z","properties":{"product_id":"a/b"}}""")] // not an id
    [InlineData("""{"type":"track","event":"Points Changed","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z","properties":{"balance":"lots"}}""")]
    public void EventsApi_MissingFields_AreInvalid(string body)
    {
        Assert.IsType<IngestParse.Invalid>(EventsApi.ParseSingle("s", "web", Encoding.UTF8.GetBytes(body)).Result);
    }

    [Fact]
    public void EventsApi_AnonymousAndUnknownTrackEvents_AreIgnored_AndBatchesAreBounded()
    {
        Assert.IsType<IngestParse.Ignored>(EventsApi.ParseSingle("s", "web", """{"type":"track","event":"Product Viewed","messageId":"m","anonymousId":"a","timestamp":"2026-11-24T01:00:00Z"}"""u8).Result);
        Assert.IsType<IngestParse.Ignored>(EventsApi.ParseSingle("s", "web", """{"type":"track","event":"Video Played","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z"}"""u8).Result);

        var tooMany = "{\"batch\":[" + string.Join(",", Enumerable.Repeat("{}", EventsApi.MaxBatch + 1)) + "]}";
        Assert.NotNull(EventsApi.ParseBatch("s", "web", Encoding.UTF8.GetBytes(tooMany), out _));
        Assert.NotNull(EventsApi.ParseBatch("s", "web", """{"batch":[]}"""u8, out _));
        Assert.Null(EventsApi.ParseBatch("s", "web", """{"batch":[{},{"type":"page","messageId":"m","userId":"u","timestamp":"2026-11-24T01:00:00Z"}]}"""u8, out var messages));
        Assert.Equal((typeof(IngestParse.Invalid), typeof(IngestParse.Mapped)), (messages[0].Result.GetType(), messages[1].Result.GetType()));
    }

    /// <summary>Vectors computed independently with <c>openssl dgst -sha256 -hmac KEY -binary | base64</c> over <c>{"id":1,"email":"a@example.com"}</c>.</summary>
    [Theory]
    [InlineData("shopify-vector-secret", "kqqfVwTcaq3txrq8MLGiEkX6fnbOGG/jzqy7A0Ix2HQ=")]
    [InlineData("wc-vector-secret", "s2ipLcPJA2bLe/oge7tgFwzTVmbNyZPodcSVIBUuNLI=")]
    [InlineData("events-vector-secret", "/9HCcU3dWTkBqB15MvN0XBPgKjv7mvXGLDlNOXVZV4Q=")]
    public void Signature_PerPlatformKnownVectors_Verify(string secret, string expected)
    {
        var body = """{"id":1,"email":"a@example.com"}"""u8;

        Assert.Equal(expected, WebhookSignature.Compute(body, Encoding.UTF8.GetBytes(secret)));
        Assert.True(WebhookSignature.IsValid(body, Encoding.UTF8.GetBytes(secret), expected));
        Assert.False(WebhookSignature.IsValid(body, Encoding.UTF8.GetBytes(secret + "x"), expected));
    }

    [Fact]
    public void Signature_DuringARotation_TheNewAndThePreviousSecretVerify_NothingElse()
    {
        var body = """{"id":1,"email":"a@example.com"}"""u8.ToArray();
        string Signed(string secret) => WebhookSignature.Compute(body, Encoding.UTF8.GetBytes(secret));
        var rotating = new ShopAccount { Platform = "shopify", Domain = "s.myshopify.com", WebhookSecret = "new-secret-1", PreviousWebhookSecret = "old-secret-1" };
        var settled = rotating with { PreviousWebhookSecret = null };
        var oneShopDefault = new ShopRegistry([], "new-secret-1", "old-secret-1").Find("shopify", "any.myshopify.com")!;

        Assert.Equal((true, true, false, false), (rotating.IsSigned(body, Signed("new-secret-1")), rotating.IsSigned(body, Signed("old-secret-1")), rotating.IsSigned(body, Signed("other-secret")), rotating.IsSigned(body, null)));
        Assert.Equal((true, false), (settled.IsSigned(body, Signed("new-secret-1")), settled.IsSigned(body, Signed("old-secret-1"))));
        Assert.Equal((true, true, false), (oneShopDefault.IsSigned(body, Signed("new-secret-1")), oneShopDefault.IsSigned(body, Signed("old-secret-1")), oneShopDefault.IsSigned(body, Signed("other-secret"))));
    }

    private static readonly string[] ShopifyTopics =
        ["customers/create", "customers/update", "orders/create", "orders/paid", "orders/cancelled", "refunds/create", "checkouts/create", "checkouts/update", "carts/update", "products/create", "products/update", "customers/redact", "customers/data_request", "shop/redact"];

    private static readonly string[] WooTopics = ["customer.created", "customer.updated", "order.created", "order.updated", "product.created", "product.updated"];

    [Property(MaxTest = 400)]
    public Property EverySource_JsonWithRandomFieldValues_NeverThrows()
    {
        var values = Gen.Elements("1", "-1", "0", "\"x\"", "\"a/b\"", "null", "[]", "{}", "[{}]", "[{\"product_id\":1,\"quantity\":-3}]", "\"2026-11-24T10:00:00Z\"", "1e400", "99999999999999999999", "true", "{\"id\":1}", "{\"mall_id\":\"m\",\"member_id\":1}", "\"T\"");
        var fields = Gen.Elements("id", "token", "created_at", "updated_at", "customer", "customer_id", "line_items", "variants", "status", "date_created_gmt", "date_paid_gmt", "event_no", "resource", "type", "messageId", "userId", "timestamp", "event", "properties", "traits", "batch", "shop_domain", "total_price", "currency");
        var body = Gen.ListOf(Gen.Zip(fields, values)).Select(pairs => "{" + string.Join(",", pairs.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}");
        return Prop.ForAll(body.ToArbitrary(), json => ParseEverywhere(Encoding.UTF8.GetBytes(json)));
    }

    [Property(MaxTest = 300)]
    public bool EverySource_AnyBytes_NeverThrows(byte[] body) => ParseEverywhere(body);

    private static bool ParseEverywhere(byte[] body)
    {
        var results = ShopifyTopics.Select(t => ShopifyWebhook.Parse(t, Shop, "d", body))
            .Concat(WooTopics.Select(t => WooCommerceWebhook.Parse(t, "s.example", "d", body)))
            .Append(Cafe24Webhook.Parse("m", "d", body, Cafe24Webhook.DefaultEvents))
            .Append(EventsApi.ParseSingle("s", "web", body).Result)
            .ToList();
        _ = Cafe24Webhook.MallIdOf(body);
        _ = EventsApi.ParseBatch("s", "web", body, out _);
        return results.All(r => r is not null);
    }
}
