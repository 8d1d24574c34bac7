using System.Text;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nudge.Core.Events;
using Nudge.Core.Ingest;

namespace Nudge.Core.Tests;

public class ShopifyWebhookTests
{
    private static IngestParse Parse(string topic, string body) =>
        ShopifyWebhook.Parse(topic, "demo.myshopify.com", "d-1", Encoding.UTF8.GetBytes(body));

    [Fact]
    public void Parse_CustomerCreate_MapsContactConsentAndSourceTime()
    {
        var body = """{"id":7001,"email":"m@example.com","phone":"+821012345678","first_name":"Minji","created_at":"2026-11-24T10:00:00+09:00","updated_at":"2026-11-24T10:05:00+09:00","email_marketing_consent":{"state":"subscribed"},"sms_marketing_consent":{"state":"unsubscribed"}}""";

        var evt = Assert.IsType<IngestParse.Mapped>(Parse("customers/create", body)).Event;

        Assert.Equal(("shopify", "7001", EventTypes.CustomerSignedUp, "shopify-d-1"), (evt.Customer.Platform, evt.Customer.CustomerId, evt.Type, evt.EventId));
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T01:00:00Z"), evt.OccurredAt);
        Assert.Equal(("m@example.com", "+821012345678", true, false), (evt.Contact!.Email, evt.Contact.Phone, evt.Contact.Consent!.Email, evt.Contact.Consent.Sms));
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T01:05:00Z"), evt.Contact.UpdatedAt);
    }

    [Fact]
    public void Parse_OrderCreate_MapsToOrderPlacedForTheCustomer()
    {
        var evt = Assert.IsType<IngestParse.Mapped>(Parse("orders/create", """{"id":99,"created_at":"2026-11-24T11:00:00Z","customer":{"id":7001}}""")).Event;

        Assert.Equal((EventTypes.OrderPlaced, "7001", "99"), (evt.Type, evt.Customer.CustomerId, evt.SubjectId));
    }

    [Fact]
    public void Parse_WithShopifyEventId_IdentifiesTheEventAcrossDeliveriesButNotAcrossTopicsOrSubjects()
    {
        const string order = """{"id":99,"created_at":"2026-11-24T11:00:00Z","processed_at":"2026-11-24T11:00:01Z","customer":{"id":7001}}""";
        string IdOf(string topic, string deliveryId, string body, string? shopifyEventId) =>
            Assert.IsType<IngestParse.Mapped>(ShopifyWebhook.Parse(topic, "demo.myshopify.com", deliveryId, Encoding.UTF8.GetBytes(body), shopifyEventId)).Event.EventId;

        var first = IdOf("orders/create", "d-1", order, "ev-1");

        Assert.Equal(first, IdOf("orders/create", "d-2", order, "ev-1")); // another subscription's copy
        Assert.NotEqual(first, IdOf("orders/paid", "d-3", order, "ev-1")); // the same action, another topic
        Assert.NotEqual(first, IdOf("orders/create", "d-4", order.Replace("99", "100"), "ev-1")); // the same action, another order
        Assert.Equal("shopify-d-1", IdOf("orders/create", "d-1", order, null));
    }

    [Theory]
    [InlineData("customers/create", """{"id":-5,"created_at":"2026-11-24T10:00:00Z"}""")]
    [InlineData("customers/create", """{"id":"a/b","created_at":"2026-11-24T10:00:00Z"}""")]
    [InlineData("orders/create", """{"id":1,"created_at":"2026-11-24T10:00:00Z","customer":{"name":"x"}}""")]
    [InlineData("orders/create", """{"created_at":"2026-11-24T10:00:00Z","customer":{"id":1}}""")]
    public void Parse_NothingToAttribute_IsAcknowledgedNotMapped(string topic, string body)
    {
        // A signed delivery is never refused for its shape: it is acknowledged with the reason.
        Assert.IsType<IngestParse.Ignored>(Parse(topic, body));
    }

    [Theory]
    [InlineData("""{"id":1,"created_at":12}""")]
    [InlineData("""{"id":1,"created_at":null,"updated_at":null}""")]
    [InlineData("""{"id":1}""")]
    public void Parse_TimeMissing_IsDatedByTheTriggerTimeThenTheReceiptTime_AndSaysSo(string body)
    {
        var received = DateTimeOffset.Parse("2026-11-24T10:00:05Z");
        var triggered = DateTimeOffset.Parse("2026-11-24T09:59:00Z");

        var byTrigger = Assert.IsType<IngestParse.Mapped>(ShopifyWebhook.Parse("customers/create", "s.myshopify.com", "d", Encoding.UTF8.GetBytes(body), null, new DeliveryTimes(received, triggered))).Event;
        var byReceipt = Assert.IsType<IngestParse.Mapped>(ShopifyWebhook.Parse("customers/create", "s.myshopify.com", "d", Encoding.UTF8.GetBytes(body), null, new DeliveryTimes(received))).Event;

        Assert.Equal((triggered, triggered), (byTrigger.OccurredAt, byTrigger.Contact!.UpdatedAt));
        Assert.Equal(received, byReceipt.OccurredAt);
        Assert.Contains(byTrigger.Degraded!, note => note.Contains("'created_at' missing: dated by the delivery's trigger time"));
        Assert.Contains(byReceipt.Degraded!, note => note.Contains("received"));
        Assert.IsType<IngestParse.Ignored>(Parse("customers/create", body)); // no delivery time to fall back on
    }

    [Theory]
    [InlineData("2023-03-29T18:00:27.877041743Z", "2023-03-29T18:00:27.8770417Z")]
    [InlineData("2026-11-24T10:00:00+09:00", "2026-11-24T01:00:00Z")]
    [InlineData("yesterday", null)]
    [InlineData("", null)]
    public void TriggeredAt_ReadsShopifysNineFractionalDigits(string header, string? expected)
    {
        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected), ShopifyWebhook.TriggeredAt(header));
    }

    [Property(MaxTest = 500)]
    public bool Parse_AnyBytes_NeverThrows(byte[] body, bool customerTopic)
    {
        var result = ShopifyWebhook.Parse(customerTopic ? "customers/create" : "orders/create", "s.myshopify.com", "d", body);
        return result is IngestParse.Invalid or IngestParse.Mapped or IngestParse.Ignored;
    }

    [Property(MaxTest = 300)]
    public Property Parse_JsonWithRandomFieldValues_NeverThrows()
    {
        var values = Gen.Elements("1", "-1", "\"x\"", "null", "[]", "{}", "\"2026-11-24T10:00:00Z\"", "1e400", "99999999999999999999", "true", "{\"id\":1}");
        var fields = Gen.Elements("id", "created_at", "updated_at", "customer", "email", "sms_marketing_consent", "email_marketing_consent");
        var body = Gen.ListOf(Gen.Zip(fields, values))
            .Select(pairs => "{" + string.Join(",", pairs.Select(p => $"\"{p.Item1}\":{p.Item2}")) + "}");
        return Prop.ForAll(body.ToArbitrary(), json =>
        {
            var a = Parse("customers/create", json);
            var b = Parse("orders/create", json);
            return a is not null && b is not null;
        });
    }

    [Fact]
    public void Signature_KnownVector_MatchesAndRejectsTampering()
    {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), base64 (RFC 4231-style well-known vector).
        var body = "The quick brown fox jumps over the lazy dog"u8;
        const string expected = "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=";

        Assert.Equal(expected, WebhookSignature.Compute(body, "key"u8));
        Assert.True(WebhookSignature.IsValid(body, "key"u8, expected));
        Assert.False(WebhookSignature.IsValid("The quick brown fox jumps over the lazy cog"u8, "key"u8, expected));
        Assert.False(WebhookSignature.IsValid(body, "key"u8, null));
    }
}
