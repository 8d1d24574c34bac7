using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// The limit on concurrent marketing journeys holds across starts made at once for one customer: each start's caller
/// counts the instances it listed, so two events handled at the same time both see room; the starter's ledger admits
/// only the first. Journeys without ads, and shops without a limit, never meet the ledger.
/// </summary>
public class MarketingJourneyLimitTests
{
    private static readonly CrossJourneyRules OneMarketingJourney = new() { MaxConcurrentMarketingJourneys = 1 };

    /// <summary>A marketing journey entered on a cart change: a day later, an offer. It runs until then.</summary>
    private static readonly JourneyDefinition CartNudge = new()
    {
        Id = "cart-nudge",
        Version = 1,
        Name = "Cart nudge",
        Priority = 70,
        Entry = JourneyEntry.OnEvent(EventTypes.CartUpdated),
        ExitOn = [EventTypes.OrderPlaced],
        Steps =
        [
            new WaitStep { Id = "a-day", Duration = TimeSpan.FromDays(1) },
            new SendStep { Id = "offer", Channel = ChannelNames.Email, Template = "cart-offer", Class = MessageClass.Ad },
        ],
    };

    private static CustomerEvent Cart(string customerId) =>
        CustomerEvent.Of($"shopify-cart-{customerId}", new CustomerKey("shopify", customerId), EventTypes.CartUpdated, Pipeline.Morning, "demo.myshopify.com", "cart-1");

    private static async Task<Pipeline> WithCartNudgeAsync(Pipeline p)
    {
        await p.Library.SaveDraftAsync(CartNudge, CancellationToken.None);
        await p.Library.PublishAsync(CartNudge.Id, CancellationToken.None);
        return p;
    }

    private static async Task<List<JourneyInstance>> InstancesAsync(Pipeline p, CustomerKey customer) =>
        await p.Instances.ListForCustomerAsync(customer, CancellationToken.None).ToListAsync();

    [Fact]
    public async Task TwoEventsStartingMarketingJourneysHandledAtOnceUnderALimitOfOne_ExactlyOneRuns()
    {
        var p = await WithCartNudgeAsync(await Pipeline.CreateAsync(rules: OneMarketingJourney));

        for (var round = 0; round < 6; round++)
        {
            var customerId = $"limit-{round}";
            CustomerEvent[] events = [Pipeline.Signup(customerId), Cart(customerId)];
            foreach (var evt in events)
            {
                await p.Events.TryAddAsync(evt, CancellationToken.None);
            }

            await Task.WhenAll(events.Select(e => p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", customerId, e.EventId), p.Runtime, CancellationToken.None)));

            var instances = await InstancesAsync(p, new CustomerKey("shopify", customerId));
            var running = Assert.Single(instances);
            Assert.False(running.IsEnded);
            Assert.Contains(running.Definition.Id, new[] { JourneyCatalog.Welcome.Id, CartNudge.Id });
        }
    }

    [Fact]
    public async Task StartsAtOnceUnderALimitOfOne_OneStarts_TheOtherIsRefused_RepeatsAreNotAdmittedTwice_AndAfterItEndsANewStartIs()
    {
        var p = await Pipeline.CreateAsync(rules: OneMarketingJourney);
        var context = CustomerContexts.For(null, p.Settings);
        JourneyDefinition[] journeys = [JourneyCatalog.Welcome, CartNudge];

        for (var round = 0; round < 4; round++)
        {
            var customer = new CustomerKey("shopify", $"starts-{round}");
            EntryTrigger Trigger(JourneyDefinition journey, string attempt = "") =>
                new($"{journey.Id}-{round}{attempt}", null, new Dictionary<string, string>());
            Task<RunOutcome> StartAsync(JourneyDefinition journey, string attempt = "") =>
                p.Starter.StartAsync(p.Runtime, journey, customer, context, Trigger(journey, attempt), CancellationToken.None);

            var outcomes = await Task.WhenAll(journeys.Select(j => StartAsync(j)));

            Assert.Equal([RunOutcome.Started, RunOutcome.Refused], outcomes.Order());
            var (winner, loser) = outcomes[0] == RunOutcome.Started ? (journeys[0], journeys[1]) : (journeys[1], journeys[0]);
            var running = Assert.Single(await InstancesAsync(p, customer));
            Assert.Equal((winner.Id, false), (running.Definition.Id, running.IsEnded));
            var listed = await InstancesAsync(p, customer);
            Assert.Equal("already in 1 marketing journeys (cap 1)",
                await p.MarketingLedger.AdmitAsync(new MarketingAdmission(customer, loser.Id, p.Clock.GetUtcNow(), 1, listed), CancellationToken.None));

            // A redelivered start of the one admitted is not refused (and starts nothing new); the refused one still is.
            Assert.Equal((RunOutcome.Repeated, RunOutcome.Refused), (await StartAsync(winner), await StartAsync(loser, "-again")));

            await p.Runtime.RaiseAsync(running, new JourneyNews(EventTypes.OrderPlaced, $"order-{round}", null, new Dictionary<string, string>(), context), CancellationToken.None);
            Assert.True((await p.Instances.GetAsync(customer, winner.Id, CancellationToken.None))!.Value.IsEnded);

            Assert.Equal(RunOutcome.Started, await StartAsync(loser, "-after"));
        }
    }

    [Fact]
    public async Task NoLimitConfigured_BothMarketingJourneysStart_AndTheLedgerIsNeverAsked()
    {
        var ledger = new InMemoryMarketingJourneyLedger();
        var p = await WithCartNudgeAsync(await Pipeline.CreateAsync(marketingLedger: ledger));
        CustomerEvent[] events = [Pipeline.Signup("7001"), Cart("7001")];
        foreach (var evt in events)
        {
            await p.Events.TryAddAsync(evt, CancellationToken.None);
            await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", evt.EventId), p.Runtime, CancellationToken.None);
        }

        Assert.Equal(2, (await InstancesAsync(p, new CustomerKey("shopify", "7001"))).Count(i => !i.IsEnded));
        Assert.Equal(0, ledger.Admissions);
    }

    [Fact]
    public async Task UnderALimit_AJourneyWithoutAds_StartsWithoutAskingTheLedger()
    {
        var ledger = new InMemoryMarketingJourneyLedger();
        var p = await Pipeline.CreateAsync(rules: OneMarketingJourney, marketingLedger: ledger);
        var context = CustomerContexts.For(null, p.Settings);
        var customer = new CustomerKey("shopify", "7002");

        var marketing = await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, customer, context, null, CancellationToken.None);
        var informational = await p.Starter.StartAsync(p.Runtime, JourneyCatalog.ConsentReconfirmation, customer, context, null, CancellationToken.None);

        Assert.Equal((RunOutcome.Started, RunOutcome.Started), (marketing, informational));
        Assert.Equal(1, ledger.Admissions);
    }
}
