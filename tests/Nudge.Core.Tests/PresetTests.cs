using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Tests;

/// <summary>Each preset in virtual time through the pure interpreter.</summary>
public class PresetTests
{
    private static readonly EvaluationTime AnyTime = EvaluationTime.Utc(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero));

    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly CustomerKey Customer = new("shopify", "77");
    private static readonly DateTimeOffset Morning = new(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(9));
    private static readonly CustomerContext Context = new(Seoul, false, null);

    private static EntryTrigger Trigger(string? key = null, params (string, string)[] facts) =>
        new("entry", key, facts.ToDictionary(f => f.Item1, f => f.Item2));

    private static JourneyDecision Fire(JourneyDecision d) =>
        JourneyInterpreter.Apply(d.Instance, new TimerFired(d.Instance.WaitingUntil!.Value, d.Instance.TimerSequence), Context);

    private static string[] Templates(params JourneyDecision[] decisions) =>
        decisions.SelectMany(d => d.Commands.OfType<SendMessage>()).Select(s => s.Template).ToArray();

    [Fact]
    public void AbandonedCheckout_IdleADay_OfferThenReminder_CartChangesRestartTheDay()
    {
        var start = JourneyInterpreter.Start(JourneyCatalog.AbandonedCheckout, Customer, Morning, Context, Trigger("c1"));
        var changed = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddHours(20), "checkout.updated", "u", "c1"), Context);
        var offer = Fire(changed); // 06:00 the day after next: email is not held by the night rule
        var reminder = Fire(offer); // a day later would be 06:00: the wait wakes at 08:00 for the ad SMS instead

        Assert.Equal("abandoned-checkout|shopify:77|c1", start.Instance.InstanceId);
        Assert.Equal(Morning.AddHours(44), changed.Instance.WaitingUntil);
        Assert.Equal(Morning.AddHours(44 + 24 + 2), offer.Instance.WaitingUntil);
        Assert.Equal(["abandoned-checkout-offer", "abandoned-checkout-reminder"], Templates(offer, reminder));
        Assert.True(reminder.Instance.IsEnded);
    }

    [Fact]
    public void AbandonedCheckout_OrderEndsItAtOnce()
    {
        var start = JourneyInterpreter.Start(JourneyCatalog.AbandonedCheckout, Customer, Morning, Context, Trigger("c1"));

        var ordered = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddHours(2), "order.placed", "o"), Context);

        Assert.True(ordered.Instance.Converted);
        Assert.Empty(Templates(ordered, Fire(start) with { Commands = [] }));
    }

    [Fact]
    public void PriceDrop_AtLeastTenPercent_AlertsOnKakaoByDay_AndWaitsAWeekBeforeTheNext()
    {
        var filter = JourneyCatalog.PriceDrop.Entry.Filter!;
        var alert = JourneyInterpreter.Start(JourneyCatalog.PriceDrop, Customer, Morning, Context, Trigger(null, ("event.dropPercent", "15")));
        var ended = alert.Instance;

        Assert.True(filter.Evaluate(new Dictionary<string, string> { ["event.dropPercent"] = "15" }, AnyTime));
        Assert.False(filter.Evaluate(new Dictionary<string, string> { ["event.dropPercent"] = "5" }, AnyTime));
        Assert.Equal((ChannelNames.Kakao, "price-drop-alert"), alert.Commands.OfType<SendMessage>().Select(s => (s.Channel, s.Template)).Single());
        Assert.False(JourneyInterpreter.MayEnter(JourneyCatalog.PriceDrop, ended, ended.EndedAt!.Value.AddDays(6)));
        Assert.True(JourneyInterpreter.MayEnter(JourneyCatalog.PriceDrop, ended, ended.EndedAt!.Value.AddDays(7)));
    }

    [Fact]
    public void BrowseAbandonment_SecondViewInADay_EmailsThePicksTheNextDay()
    {
        var filter = JourneyCatalog.BrowseAbandonment.Entry.Filter!;
        var start = JourneyInterpreter.Start(JourneyCatalog.BrowseAbandonment, Customer, Morning, Context, Trigger(null, ("event.productViewsInDay", "2")));
        var picks = Fire(start);

        Dictionary<string, string> Facts(string views, string openCart = "false", DateTimeOffset? lastOrder = null)
        {
            var facts = new Dictionary<string, string> { ["event.productViewsInDay"] = views, ["profile.hasOpenCart"] = openCart };
            if (lastOrder is { } at)
            {
                facts["profile.lastOrderAt"] = at.ToString("O");
            }

            return facts;
        }

        Assert.False(filter.Evaluate(Facts("1"), AnyTime));
        Assert.True(filter.Evaluate(Facts("2"), AnyTime));
        Assert.False(filter.Evaluate(Facts("2", openCart: "true"), AnyTime)); // already buying
        Assert.False(filter.Evaluate(Facts("2", lastOrder: AnyTime.Now.AddHours(-3)), AnyTime)); // just ordered
        Assert.True(filter.Evaluate(Facts("3", lastOrder: AnyTime.Now.AddDays(-20)), AnyTime));
        Assert.Equal(Morning.AddDays(1), start.Instance.WaitingUntil);
        Assert.Equal((ChannelNames.Email, "browse-abandonment"), picks.Commands.OfType<SendMessage>().Select(s => (s.Channel, s.Template)).Single());
        Assert.False(JourneyInterpreter.MayEnter(JourneyCatalog.BrowseAbandonment, picks.Instance, picks.Instance.EndedAt!.Value.AddDays(6)));
    }

    [Theory]
    [InlineData("cart.updated")]
    [InlineData("checkout.started")]
    [InlineData("order.placed")]
    public void BrowseAbandonment_CartOrOrderBeforeTheNextDay_EndsItWithoutAMessage(string goal)
    {
        var start = JourneyInterpreter.Start(JourneyCatalog.BrowseAbandonment, Customer, Morning, Context, Trigger(null, ("event.productViewsInDay", "2")));

        var ended = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddHours(3), goal, "g"), Context);

        Assert.True((ended.Instance.IsEnded, ended.Instance.Converted) == (true, true));
        Assert.Empty(Templates(start, ended));
    }

    [Fact]
    public void PostPurchase_ThanksNowCrossSellOnDayThree_EveryOrderAfterTheLastEnded()
    {
        var thanks = JourneyInterpreter.Start(JourneyCatalog.PostPurchase, Customer, Morning, Context);
        var crossSell = Fire(thanks);

        Assert.Equal(["order-thanks", "cross-sell"], Templates(thanks, crossSell));
        Assert.Equal(MessageClass.Informational, thanks.Commands.OfType<SendMessage>().Single().Class);
        Assert.Equal(Morning.AddDays(3), crossSell.Commands.OfType<SendMessage>().Single().ScheduledFor);
        Assert.False(JourneyInterpreter.MayEnter(JourneyCatalog.PostPurchase, thanks.Instance, Morning.AddDays(1)));
        Assert.True(JourneyInterpreter.MayEnter(JourneyCatalog.PostPurchase, crossSell.Instance, Morning.AddDays(4)));
    }

    [Fact]
    public void Repurchase_FirstOrderOnly_NudgeOnDayFive_SecondOrderEndsIt()
    {
        var filter = JourneyCatalog.Repurchase.Entry.Filter!;
        var start = JourneyInterpreter.Start(JourneyCatalog.Repurchase, Customer, Morning, Context);
        var nudge = Fire(start);
        var secondOrder = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddDays(3), "order.placed", "o2"), Context);

        Assert.True(filter.Evaluate(new Dictionary<string, string> { ["event.firstOrder"] = "true" }, AnyTime));
        Assert.False(filter.Evaluate(new Dictionary<string, string> { ["event.firstOrder"] = "false" }, AnyTime));
        Assert.Equal(["repurchase-nudge"], Templates(nudge));
        Assert.Equal(Morning.AddDays(5), nudge.Commands.OfType<SendMessage>().Single().ScheduledFor);
        Assert.True(secondOrder.Instance.Converted);
    }

    [Fact]
    public void WinBack_AVisitWithinTwoWeeksEndsQuietly_FourteenDaysAwayBringsTheOffer()
    {
        var start = JourneyInterpreter.Start(JourneyCatalog.WinBack, Customer, Morning, Context);
        var cameBack = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddDays(5), "page.viewed", "v"), Context);
        var away = Fire(start);

        Assert.Empty(Templates(cameBack));
        Assert.True(cameBack.Instance.IsEnded); // the visit itself starts a new instance (re-entry after exit)
        Assert.True(JourneyInterpreter.MayEnter(JourneyCatalog.WinBack, cameBack.Instance, Morning.AddDays(5)));
        Assert.Equal(["win-back-offer"], Templates(away));
        Assert.Equal(Morning.AddDays(14), away.Commands.OfType<SendMessage>().Single().ScheduledFor);
    }

    [Theory]
    [InlineData("2500", "points-2000")]
    [InlineData("7000", "points-5000")]
    [InlineData("12000", "points-10000")]
    public void PointsReminder_PicksTheTierOfTheBalance(string balance, string template)
    {
        Assert.True(JourneyCatalog.PointsReminder.Entry.Filter!.Evaluate(new Dictionary<string, string> { ["event.balance"] = balance }, AnyTime));

        var decision = JourneyInterpreter.Start(JourneyCatalog.PointsReminder, Customer, Morning, Context, Trigger(null, ("event.balance", balance)));

        Assert.Equal([template], Templates(decision));
    }

    [Fact]
    public void PointsReminder_UnderTwoThousand_DoesNotEnter()
    {
        Assert.False(JourneyCatalog.PointsReminder.Entry.Filter!.Evaluate(new Dictionary<string, string> { ["event.balance"] = "1999" }, AnyTime));
    }

    [Fact]
    public void ConsentReconfirmation_AskAgainBeforeTwoYears_WithdrawingAllConsentEndsIt()
    {
        var start = JourneyInterpreter.Start(JourneyCatalog.ConsentReconfirmation, Customer, Morning, Context);
        var asked = Fire(start);
        CustomerContext Consents(string email, string sms) =>
            Context with { Facts = new Dictionary<string, string> { ["profile.emailConsent"] = email, ["profile.smsConsent"] = sms } };
        var stillSms = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddDays(100), "customer.updated", "u1"), Consents("false", "true"));
        var none = JourneyInterpreter.Apply(start.Instance, new EventArrived(Morning.AddDays(100), "customer.updated", "u2"), Consents("false", "false"));

        Assert.Equal(["consent-reconfirm"], Templates(asked));
        Assert.True(asked.Commands.OfType<SendMessage>().Single().ScheduledFor < Morning.AddYears(2));
        Assert.False(stillSms.Changed);
        Assert.True(none.Instance.IsEnded);
        Assert.True(JourneyCatalog.MarketingConsent.Condition.Evaluate(new Dictionary<string, string> { ["profile.smsConsent"] = "true" }, AnyTime));
    }

    [Fact]
    public void DormancyNotice_ElevenMonthsAway_InformationalNotice()
    {
        var notice = Fire(JourneyInterpreter.Start(JourneyCatalog.DormancyNotice, Customer, Morning, Context));

        var send = notice.Commands.OfType<SendMessage>().Single();
        Assert.Equal(("dormancy-notice", MessageClass.Informational, Morning.AddDays(335)), (send.Template, send.Class, send.ScheduledFor));
    }
}
