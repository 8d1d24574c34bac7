using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Simulation;

namespace Nudge.Core.Tests;

public class SimulatorTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    [Fact]
    public void Run_SameScenario_SameResult()
    {
        var scenario = new SimulationScenario { Customers = 5_000, Days = 10, Seed = 7 };

        var first = JourneySimulator.Run(JourneyCatalog.Welcome, scenario, Seoul);
        var second = JourneySimulator.Run(JourneyCatalog.Welcome, scenario, Seoul);

        Assert.Equal(first.TotalSent, second.TotalSent);
        Assert.Equal(first.Days.Select(d => d.Sent[ChannelNames.Sms]), second.Days.Select(d => d.Sent[ChannelNames.Sms]));
    }

    [Fact]
    public void Run_Welcome_EveryCustomerGetsACouponOrASuppressionAndSmsComesOnDayTwoOrThree()
    {
        var scenario = new SimulationScenario
        {
            Customers = 4_000, Days = 5, EmailConsentRate = 1, HasEmailRate = 1, SmsConsentRate = 1, HasPhoneRate = 1,
            DailyEventRates = new Dictionary<string, double>(),
        };

        var result = JourneySimulator.Run(JourneyCatalog.Welcome, scenario, Seoul);

        Assert.Equal(4_000, result.Days[0].Sent[ChannelNames.Email]);
        Assert.Equal(4_000, result.Days[2].Sent[ChannelNames.Sms] + result.Days[3].Sent[ChannelNames.Sms]);
        Assert.Equal(0, result.Days.Sum(d => d.Suppressed));
        Assert.True(result.Days.Sum(d => d.Deferred) > 0, "some day-2 SMS fall in the Korean night and wait for 08:00");
    }

    [Fact]
    public void Run_OrdersEndTheJourney_FewerSmsThanCoupons()
    {
        var buyers = new SimulationScenario { Customers = 4_000, Days = 5, EmailConsentRate = 1, SmsConsentRate = 1, HasEmailRate = 1, HasPhoneRate = 1, DailyEventRates = new Dictionary<string, double> { ["order.placed"] = 0.5 } };

        var result = JourneySimulator.Run(JourneyCatalog.Welcome, buyers, Seoul);

        var sms = result.Days.Sum(d => d.Sent[ChannelNames.Sms]);
        Assert.InRange(sms, 1_000, 1_800); // about e^-1 of customers make no order in the first two days
        Assert.Equal(4_000 - sms, result.TotalConverted);
    }

    [Fact]
    public void Run_NoConsent_SuppressesInsteadOfSending()
    {
        var scenario = new SimulationScenario { Customers = 1_000, Days = 3, EmailConsentRate = 0, SmsConsentRate = 0, DailyEventRates = new Dictionary<string, double>() };

        var result = JourneySimulator.Run(JourneyCatalog.Welcome, scenario, Seoul);

        Assert.Equal(0, result.TotalSent);
        Assert.Equal(2_000, result.Days.Sum(d => d.Suppressed));
    }

    [Fact]
    public void Scenario_OutOfRange_IsReported()
    {
        var errors = new SimulationScenario { Customers = 0, Days = 0, SmsConsentRate = 2 }.Validate();

        Assert.Equal(3, errors.Count);
    }
}

public class SimulatorCapsAndStoredTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    [Fact]
    public void Run_WithACap_CountsCappedSendsAndSendsLess()
    {
        var twoEmailsADay = JourneyCatalog.Welcome with
        {
            Steps = [new SendStep { Id = "a", Channel = ChannelNames.Email, Template = "a" }, new SendStep { Id = "b", Channel = ChannelNames.Email, Template = "b" }],
        };
        var scenario = new SimulationScenario { Customers = 1_000, Days = 2, EmailConsentRate = 1, HasEmailRate = 1, DailyEventRates = new Dictionary<string, double>() };
        var oneEmailADay = new CrossJourneyRules { Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Email] = new(1, null) } };

        var uncapped = JourneySimulator.Run(twoEmailsADay, scenario, Seoul);
        var capped = JourneySimulator.Run(twoEmailsADay, scenario, Seoul, rules: oneEmailADay);

        Assert.Equal(2_000, uncapped.TotalSent);
        Assert.Equal(1_000, capped.TotalSent);
        Assert.Equal(1_000, capped.Days.Sum(d => d.Capped));
    }

    [Fact]
    public void Run_StoredPopulation_UsesTheirConsent()
    {
        var stored = Enumerable.Range(0, 10).Select(i => new Nudge.Core.Customers.CustomerProfile
        {
            Key = new("shopify", i.ToString()), Email = "e", Phone = "p",
            Consent = new Nudge.Core.Customers.MarketingConsent(Email: i < 4, Sms: false, NightAds: false),
        }).ToList();

        var result = JourneySimulator.Run(JourneyCatalog.Welcome, new SimulationScenario { Days = 5, DailyEventRates = new Dictionary<string, double>() }, Seoul, population: stored);

        Assert.Equal(10, result.Customers);
        Assert.Equal(4, result.Days.Sum(d => d.Sent[ChannelNames.Email]));
        Assert.Equal(0, result.Days.Sum(d => d.Sent[ChannelNames.Sms]));
    }
}
