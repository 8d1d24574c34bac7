using System.Net;

namespace Nudge.App.Tests;

/// <summary>The local sink's outbox: with <c>Nudge:LocalOutbox</c> set, each message is written as a provider would get it.</summary>
public sealed class LocalOutboxTests
{
    [Fact]
    public async Task LocalSink_WithAnOutbox_WritesTheRenderedMessageOncePerDelivery()
    {
        var outbox = Path.Combine(Path.GetTempPath(), "nudge-outbox-" + Guid.NewGuid().ToString("N"));
        await using var app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:LocalOutbox"] = outbox });
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await app.PostWebhookAsync("customers/create", NudgeTestApp.Customer(8401))).StatusCode);
            var coupon = (await app.WaitForDeliveriesAsync("8401", r => r.Any(d => d.Template == "welcome-coupon" && d.Status == "sent"), "the coupon")).Single();

            var written = await File.ReadAllTextAsync(Path.Combine(outbox, $"welcome-coupon-{coupon.DeliveryId}.txt"));

            Assert.Contains("subject: (광고) Test님", written);
            Assert.Contains("/api/unsubscribe?t=", written);
        }
        finally
        {
            Directory.Delete(outbox, recursive: true);
        }
    }
}
