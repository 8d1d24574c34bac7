using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Tests;

public class FrequencyCapTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");
    private static readonly CustomerKey Customer = new("shopify", "9");
    private static readonly DateTimeOffset Noon = new(2026, 11, 24, 12, 0, 0, TimeSpan.FromHours(9)); // Tuesday

    private static readonly CrossJourneyRules OneSmsADay = new()
    {
        Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Sms] = new(1, null), [ChannelNames.Email] = new(null, 2) },
    };

    private static CustomerContext WithSends(params RecentSend[] sends) => new(Seoul, false, null, null, OneSmsADay, sends);

    private static JourneyDefinition SmsJourney(SendStep send) => new()
    {
        Id = "cap", Version = 1, Entry = JourneyEntry.OnEvent("x"), Steps = [send, new ExitStep { Id = "end" }],
    };

    private static SendStep Sms(CapPolicy policy = CapPolicy.Skip, MessageClass messageClass = MessageClass.Ad) =>
        new() { Id = "sms", Channel = ChannelNames.Sms, Template = "t", Class = messageClass, OnCap = policy, SwitchTo = policy == CapPolicy.Switch ? ChannelNames.Email : null, DeferFor = TimeSpan.FromDays(1) };

    private static readonly RecentSend SmsThisMorning = new(Noon.AddHours(-3), ChannelNames.Sms, MessageClass.Ad);

    [Fact]
    public void CapReached_Skip_SendsNothingAndMovesOn()
    {
        var decision = JourneyInterpreter.Start(SmsJourney(Sms()), Customer, Noon, WithSends(SmsThisMorning));

        Assert.Empty(decision.Commands.OfType<SendMessage>());
        Assert.Contains(decision.Instance.History, h => h.What == "frequency cap on sms: skipped");
        Assert.Equal("exit step", decision.Instance.EndReason);
    }

    [Fact]
    public void CapReached_Defer_WaitsForTheNextDayThenQuietHoursThenSends()
    {
        var context = WithSends(SmsThisMorning);
        var deferred = JourneyInterpreter.Start(SmsJourney(Sms(CapPolicy.Defer)), Customer, Noon, context);
        var midnight = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.FromHours(9));
        var atMidnight = JourneyInterpreter.Apply(deferred.Instance, new TimerFired(midnight, deferred.Instance.TimerSequence), context);
        var morning = JourneyInterpreter.Apply(atMidnight.Instance, new TimerFired(atMidnight.Instance.WaitingUntil!.Value, atMidnight.Instance.TimerSequence), context);

        Assert.Equal(midnight, deferred.Instance.WaitingUntil);
        Assert.Equal(midnight.AddHours(8), atMidnight.Instance.WaitingUntil); // quiet hours for the ad SMS
        var sms = Assert.Single(morning.Commands.OfType<SendMessage>());
        Assert.Equal(midnight.AddHours(8), sms.ScheduledFor);
    }

    [Fact]
    public void CapReached_DeferBeyondItsExpiry_IsSkipped()
    {
        var step = Sms(CapPolicy.Defer) with { DeferFor = TimeSpan.FromHours(2) };

        var decision = JourneyInterpreter.Start(SmsJourney(step), Customer, Noon, WithSends(SmsThisMorning));

        Assert.Empty(decision.Commands);
        Assert.Contains(decision.Instance.History, h => h.What == "frequency cap on sms: skipped");
    }

    [Fact]
    public void CapReached_Switch_SendsOnTheOtherChannel()
    {
        var decision = JourneyInterpreter.Start(SmsJourney(Sms(CapPolicy.Switch)), Customer, Noon, WithSends(SmsThisMorning));

        Assert.Equal(ChannelNames.Email, Assert.Single(decision.Commands.OfType<SendMessage>()).Channel);
    }

    [Fact]
    public void CapReached_SwitchTargetAlsoCapped_IsSkipped()
    {
        var emails = new[] { new RecentSend(Noon.AddDays(-1), ChannelNames.Email, MessageClass.Ad), new RecentSend(Noon.AddHours(-1), ChannelNames.Email, MessageClass.Ad) };

        var decision = JourneyInterpreter.Start(SmsJourney(Sms(CapPolicy.Switch)), Customer, Noon, WithSends([SmsThisMorning, .. emails]));

        Assert.Empty(decision.Commands.OfType<SendMessage>());
    }

    [Fact]
    public void Transactional_IsExemptFromCaps()
    {
        var decision = JourneyInterpreter.Start(SmsJourney(Sms(messageClass: MessageClass.Transactional)), Customer, Noon, WithSends(SmsThisMorning));

        Assert.Single(decision.Commands.OfType<SendMessage>());
    }

    [Fact]
    public void WeeklyCap_CountsFromMondayInTheCustomersZone()
    {
        var lastSunday = new RecentSend(new DateTimeOffset(2026, 11, 22, 12, 0, 0, TimeSpan.FromHours(9)), ChannelNames.Email, MessageClass.Ad);
        var monday = new RecentSend(new DateTimeOffset(2026, 11, 23, 9, 0, 0, TimeSpan.FromHours(9)), ChannelNames.Email, MessageClass.Ad);

        var underCap = FrequencyCaps.BlockedUntil(OneSmsADay, ChannelNames.Email, MessageClass.Ad, Noon, Seoul, [lastSunday, monday]);
        var atCap = FrequencyCaps.BlockedUntil(OneSmsADay, ChannelNames.Email, MessageClass.Ad, Noon, Seoul, [monday, monday]);

        Assert.Null(underCap);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 0, 0, 0, TimeSpan.FromHours(9)), atCap);
    }

    [Fact]
    public void ConcurrentMarketingJourneyCap_RefusesEntryOnlyForMarketingJourneys()
    {
        var context = new CustomerContext(Seoul, false, null, null, new CrossJourneyRules { MaxConcurrentMarketingJourneys = 2 });

        Assert.NotNull(JourneyInterpreter.RefusedEntry(JourneyCatalog.Welcome, context, 2));
        Assert.Null(JourneyInterpreter.RefusedEntry(JourneyCatalog.Welcome, context, 1));
        Assert.Null(JourneyInterpreter.RefusedEntry(JourneyCatalog.ConsentReconfirmation, context, 5)); // informational only
    }
}
