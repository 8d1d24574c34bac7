using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

public class ScheduledEntryTests
{
    private static readonly DateTimeOffset NextMonday10 = new(2026, 11, 30, 10, 0, 0, TimeSpan.FromHours(9));

    private static readonly JourneyDefinition WeeklyDigest = new()
    {
        Id = "weekly-digest",
        Entry = new JourneyEntry { Schedule = "0 0 10 * * MON", Filter = Condition.Is("profile.emailConsent", "eq", "true") },
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
        Steps = [new SendStep { Id = "digest", Channel = ChannelNames.Email, Template = "weekly-digest" }],
    };

    /// <summary>Stands in for Cronos here: one occurrence, next Monday 10:00.</summary>
    private static DateTimeOffset? Monday(string schedule, DateTimeOffset from, DateTimeOffset to, TimeZoneInfo zone) =>
        NextMonday10 > from && NextMonday10 <= to ? NextMonday10 : null;

    [Fact]
    public async Task RunDue_AtTheOccurrence_EntersMatchingCustomersOnce()
    {
        var p = await Pipeline.CreateAsync();
        await p.Library.SaveDraftAsync(WeeklyDigest, CancellationToken.None);
        await p.Library.PublishAsync("weekly-digest", CancellationToken.None);
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("1"), CancellationToken.None);
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("2"), CancellationToken.None);
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("3") with { Contact = Pipeline.Signup("3").Contact! with { Consent = MarketingConsent.None } }, CancellationToken.None);

        var firstSeen = await p.Schedules.RunDueAsync(Monday, p.Runtime, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(7));
        var atOccurrence = await p.Schedules.RunDueAsync(Monday, p.Runtime, CancellationToken.None);
        var sameOccurrenceAgain = await p.Schedules.EnterAsync(WeeklyDigest with { Version = 1 }, NextMonday10, p.Runtime, CancellationToken.None);
        var later = await p.Schedules.RunDueAsync(Monday, p.Runtime, CancellationToken.None);

        Assert.Equal((0, 2, 0, 0), (firstSeen, atOccurrence, sameOccurrenceAgain, later));
        Assert.Single(await p.DecidedSendsAsync(new CustomerKey("shopify", "1")));
        Assert.Empty(await p.DecidedSendsAsync(new CustomerKey("shopify", "3")));
    }

    [Fact]
    public async Task EnterAsync_CustomerAtTheMarketingJourneyLimit_IsNotEntered_OthersAre()
    {
        var p = await Pipeline.CreateAsync(rules: new CrossJourneyRules
        {
            MaxConcurrentMarketingJourneys = 1,
            Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Sms] = new(5, null) }, // caps on: the listing serves both rules
        });
        var adDigest = WeeklyDigest with { Steps = [new SendStep { Id = "digest", Channel = ChannelNames.Email, Template = "weekly-digest", Class = MessageClass.Ad }] };
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("1"), CancellationToken.None);
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("2"), CancellationToken.None);
        var busy = new CustomerKey("shopify", "1");
        Assert.Equal(RunOutcome.Started, await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, busy, p.Context(null), null, CancellationToken.None));

        var entered = await p.Schedules.EnterAsync(adDigest, NextMonday10, p.Runtime, CancellationToken.None);

        Assert.Equal(1, entered);
        Assert.Null(await p.Instances.GetAsync(busy, "weekly-digest", CancellationToken.None));
        Assert.NotNull(await p.Instances.GetAsync(new CustomerKey("shopify", "2"), "weekly-digest", CancellationToken.None));
    }

    [Fact]
    public async Task StartAsync_RedeliveredTriggerAfterTheInstanceEnded_DoesNotEnterAgain()
    {
        var p = await Pipeline.CreateAsync();
        var customer = new CustomerKey("shopify", "5");
        var trigger = new EntryTrigger("order-1", null, new Dictionary<string, string>());

        var first = await p.Starter.StartAsync(p.Runtime, JourneyCatalog.PostPurchase, customer, p.Context(null), trigger, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(4));
        await p.Runtime.FireDueTimersAsync();
        var redelivered = await p.Starter.StartAsync(p.Runtime, JourneyCatalog.PostPurchase, customer, p.Context(null), trigger, CancellationToken.None);
        var nextOrder = await p.Starter.StartAsync(p.Runtime, JourneyCatalog.PostPurchase, customer, p.Context(null), trigger with { EventId = "order-2" }, CancellationToken.None);

        Assert.Equal((RunOutcome.Started, RunOutcome.Repeated, RunOutcome.Started), (first, redelivered, nextOrder));
        Assert.Equal(3, (await p.DecidedSendsAsync(customer)).Count); // thanks, cross-sell, thanks
    }
}
