using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

/// <summary>Provider reports applied to the delivery log on Azurite.</summary>
public class DeliveryReportTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    /// <summary>A signed-up customer with one sent delivery on <paramref name="channel"/>, and the report handler.</summary>
    private static async Task<(Pipeline P, DeliveryReportHandler Reports)> SentAsync(string deliveryId, string channel, string template)
    {
        var p = await Pipeline.CreateAsync();
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        var sent = new DeliveryRecord
        {
            DeliveryId = deliveryId, Customer = Customer, JourneyId = "journey", StepIndex = 0, Channel = channel,
            Template = template, Class = MessageClass.Ad, Status = DeliveryStatus.Sent, ScheduledFor = Pipeline.Morning,
        };
        Assert.True(await p.Deliveries.TryUpdateAsync(sent, null, CancellationToken.None));
        return (p, new DeliveryReportHandler(p.Deliveries, new TableDeliveryEvents(p.Clients.Tables, p.Names, p.Clock), p.Profiles,
            new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock), p.Queue));
    }

    [Fact]
    public async Task NotOnKakaoReport_TeachesTheProfileAndSendsTheFallbackOnceHoweverOftenReported()
    {
        var (p, reports) = await SentAsync("kakao-alert-1", ChannelNames.Kakao, "price-drop-alert");

        var first = await reports.ApplyAsync("kakao-alert-1", DeliveryReport.NotOnKakao, "solapi 3104", CancellationToken.None);
        var again = await reports.ApplyAsync("kakao-alert-1", DeliveryReport.NotOnKakao, "solapi 3104", CancellationToken.None);
        var fallbacks = await p.QueuedDeliveriesAsync(ChannelNames.Kakao);
        var outcomes = await p.DrainDeliveriesAsync(ChannelNames.Kakao);

        Assert.Equal((ReportHandling.Applied, ReportHandling.Applied), (first, again));
        Assert.False((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.KakaoReachable);
        Assert.Equal(DeliveryStatus.Failed, (await p.Deliveries.GetAsync(Customer, "kakao-alert-1", CancellationToken.None))!.Value.Status);
        Assert.Equal([DeliveryReportHandler.FallbackId("kakao-alert-1")], fallbacks.Select(m => m.DeliveryId).Distinct());
        Assert.All(fallbacks, m => Assert.Equal(("price-drop-alert", MessageClass.Ad), (m.Order!.Template, m.Order.Class)));
        Assert.Equal([DeliveryHandling.Sent, DeliveryHandling.AlreadyDone], outcomes);
        Assert.Equal(1, p.Sender.Calls);
    }

    [Fact]
    public async Task NotOnKakaoReport_ForAnSms_ChangesNothing()
    {
        var (p, reports) = await SentAsync("sms-1", ChannelNames.Sms, "welcome-day2");

        await reports.ApplyAsync("sms-1", DeliveryReport.NotOnKakao, "solapi 3104", CancellationToken.None);

        Assert.Null((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.KakaoReachable);
        Assert.Equal(DeliveryStatus.Sent, (await p.Deliveries.GetAsync(Customer, "sms-1", CancellationToken.None))!.Value.Status);
        Assert.Empty(await p.QueuedDeliveriesAsync(ChannelNames.Kakao));
    }
}
