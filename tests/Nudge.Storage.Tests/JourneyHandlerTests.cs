using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// The journey handlers on the real stores (Azurite) over the in-memory journey runtime: entries, goals, waits, caps
/// across journeys and the consent ledger. The durable runtime itself is held to the same behaviour by the runtime
/// contract suite (Nudge.App.Tests).
/// </summary>
public class JourneyHandlerTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    [Fact]
    public async Task StartAsync_ConcurrentStartsForOneCustomer_OneInstanceAndOneDeliveryMessage()
    {
        var p = await Pipeline.CreateAsync();
        var context = p.Context(null);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, context, null, CancellationToken.None)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.All(outcomes.Where(o => o != RunOutcome.Started), o => Assert.Equal(RunOutcome.AlreadyExists, o));
        Assert.Equal(1, p.Runtime.Starts);
        Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Email));
        var order = (await p.DecidedSendsAsync(Customer))[0];
        Assert.Equal((ChannelNames.Email, "welcome-coupon", MessageClass.Ad), (order.Channel, order.Template, order.Class));
        Assert.Equal(1, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.TimerSequence);
    }

    [Fact]
    public async Task StartAsync_KnownAbsentButRacing_StillOneInstanceAndOneDeliveryMessage()
    {
        var p = await Pipeline.CreateAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, knownAbsent: true)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Email));
    }

    /// <summary>The handling that claimed the slot stopped before the run was handed over: its redelivery hands it over.</summary>
    [Fact]
    public async Task EventHandler_RedeliveredAfterStoppingBeforeTheHandOver_StartsTheRunOnce_TheCouponGoesOnce()
    {
        var p = await Pipeline.CreateAsync();
        var signup = Pipeline.Signup("7001");
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await Assert.ThrowsAsync<OperationCanceledException>(() =>
            p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), new StoppingRuntime(), CancellationToken.None));

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);

        Assert.Equal(1, p.Runtime.Starts);
        Assert.Equal("welcome-coupon", Assert.Single((await p.QueuedDeliveriesAsync(ChannelNames.Email)).DistinctBy(m => m.DeliveryId)).Order!.Template);
        await p.DrainDeliveriesAsync(ChannelNames.Email);
        Assert.Equal(1, p.Sender.Calls); // copies of one delivery id, sent once
    }

    /// <summary>A runtime whose process stops as the run is handed to it.</summary>
    private sealed class StoppingRuntime : IJourneyRuntime
    {
        public Task<bool> StartAsync(JourneyInstance started, CancellationToken cancellationToken) => throw new OperationCanceledException("stopped");

        public Task RaiseAsync(JourneyInstance instance, JourneyNews news, CancellationToken cancellationToken) => throw new OperationCanceledException("stopped");

        public Task EraseAsync(string instanceId, CancellationToken cancellationToken) => throw new OperationCanceledException("stopped");
    }

    [Fact]
    public async Task TimerFires_DayTwo_QueuesSmsOnceEvenIfFiredTwice()
    {
        var p = await Pipeline.CreateAsync();
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));

        var first = await p.Runtime.FireDueTimersAsync();
        var second = await p.Runtime.FireDueTimersAsync();

        Assert.Equal((1, 0), (first, second));
        Assert.Equal([ChannelNames.Email, ChannelNames.Sms], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-sms"));
        Assert.Equal(InstanceStatus.Completed, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Status);
    }

    [Fact]
    public async Task TimerFires_BeforeDueTime_NothingChanges()
    {
        var p = await Pipeline.CreateAsync();
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None);
        var before = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version;
        p.Time.Advance(TimeSpan.FromDays(2) - TimeSpan.FromMinutes(1));

        Assert.Equal(0, await p.Runtime.FireDueTimersAsync());
        Assert.Single(await p.DecidedSendsAsync(Customer));
        Assert.Equal(before, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version);
    }

    [Fact]
    public async Task JourneyEventHandler_OrderWhileWaiting_ExitsDayTwoSendsNothingAndTheCouponGoesOnce()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var (signup, order) = await StoreSignupAndOrderFiveHoursLaterAsync(p);

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromHours(5));
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), p.Runtime, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.Runtime.FireDueTimersAsync();

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value;
        Assert.Equal((InstanceStatus.Exited, "goal: order.placed"), (instance.Status, instance.EndReason));
        Assert.Equal([ChannelNames.Email], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.NotNull((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.FirstOrderAt);
        Assert.Equal([DeliveryHandling.Sent], await p.DrainDeliveriesAsync(ChannelNames.Email)); // the coupon decided before the order still goes, once
        Assert.Equal(1, p.Sender.Calls);
    }

    /// <summary>On signup: wait up to a day for a product view; a thank-you email if it comes, an SMS nudge if not.</summary>
    private static readonly JourneyDefinition BrowseAfterSignup = new()
    {
        Id = "browse-after-signup", Version = 1, Name = "Browse after signup", Entry = JourneyEntry.OnEvent(Core.Events.EventTypes.CustomerSignedUp),
        Steps =
        [
            new WaitForEventStep { Id = "browse", Event = Core.Events.EventTypes.ProductViewed, Timeout = TimeSpan.FromDays(1), OnEvent = "thanks", OnTimeout = "nudge" },
            new SendStep { Id = "thanks", Channel = ChannelNames.Email, Template = "thanks", Class = MessageClass.Informational, Next = "end" },
            new SendStep { Id = "nudge", Channel = ChannelNames.Sms, Template = "nudge", Class = MessageClass.Informational },
            new ExitStep { Id = "end" },
        ],
    };

    [Theory]
    [InlineData(true, ChannelNames.Email)]
    [InlineData(false, ChannelNames.Sms)]
    public async Task TimerFires_AwaitedEventHandledWhileTheInstanceWasStarting_TakesTheEventBranch(bool viewedDuringTheStart, string expectedChannel)
    {
        var p = await Pipeline.CreateAsync();
        await p.Library.SeedAsync([BrowseAfterSignup], CancellationToken.None);
        var signup = Pipeline.Signup("7001");
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        if (viewedDuringTheStart)
        {
            // The view's worker updated the profile but listed the instances before this one existed: it never got the view.
            var view = new Core.Events.CustomerEvent
            {
                EventId = "web-view-1", Customer = Customer, Type = Core.Events.EventTypes.ProductViewed, OccurredAt = Pipeline.Morning.AddSeconds(2),
            };
            await p.ProfileUpdater.ApplyAsync(view, CancellationToken.None);
        }

        p.Time.Advance(TimeSpan.FromDays(1));
        await p.Runtime.FireDueTimersAsync();

        Assert.Contains(expectedChannel, (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.DoesNotContain(expectedChannel == ChannelNames.Email ? ChannelNames.Sms : ChannelNames.Email,
            (await p.DecidedSendsAsync(Customer)).Where(o => o.JourneyId == BrowseAfterSignup.Id).Select(o => o.Channel));
    }

    [Fact]
    public async Task TimerFires_OrderHandledWhileTheWelcomeWasStarting_DayTwoSendsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var (signup, order) = await StoreSignupAndOrderFiveHoursLaterAsync(p);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        // The order's worker updated the profile but listed the instances before the welcome existed: it never got the order.
        await p.ProfileUpdater.ApplyAsync(order, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));

        await p.Runtime.FireDueTimersAsync();

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value;
        Assert.Equal((InstanceStatus.Exited, true), (instance.Status, instance.Converted));
        Assert.Equal([ChannelNames.Email], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
    }

    [Fact]
    public async Task JourneyEventHandler_SignupAfterAnOrder_StartsNoWelcome()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var order = new Core.Events.CustomerEvent
        {
            EventId = "shopify-order-1", Customer = Customer, Type = Core.Events.EventTypes.OrderPlaced, OccurredAt = Pipeline.Morning,
        };
        var signup = Pipeline.Signup("7001");
        await p.Events.TryAddAsync(order, CancellationToken.None);
        await p.Events.TryAddAsync(signup, CancellationToken.None);

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), p.Runtime, CancellationToken.None);
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);

        Assert.Null(await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None)); // the welcome's entry filter: never ordered
        Assert.Empty(await p.DecidedSendsAsync(Customer));
    }

    [Fact]
    public async Task JourneyEventHandler_RepeatCustomerAbandonsACheckout_GetsTheOfferADayLater()
    {
        var p = await Pipeline.CreateAsync();
        await p.Library.SeedAsync([JourneyCatalog.AbandonedCheckout], CancellationToken.None);
        var order = new Core.Events.CustomerEvent
        {
            EventId = "shopify-order-1", Customer = Customer, Type = Core.Events.EventTypes.OrderPlaced, OccurredAt = Pipeline.Morning.AddDays(-30),
        };
        var checkout = new Core.Events.CustomerEvent
        {
            EventId = "shopify-checkout-1", Customer = Customer, Type = Core.Events.EventTypes.CheckoutStarted, OccurredAt = Pipeline.Morning, SubjectId = "checkout-1",
        };
        foreach (var evt in new[] { Pipeline.Signup("7001"), order, checkout })
        {
            await p.Events.TryAddAsync(evt, CancellationToken.None);
            await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", evt.EventId), p.Runtime, CancellationToken.None);
        }

        p.Time.Advance(TimeSpan.FromDays(1.1));
        await p.Runtime.FireDueTimersAsync();

        Assert.Contains("abandoned-checkout-offer", (await p.DecidedSendsAsync(Customer)).Select(o => o.Template));
    }

    /// <summary>Publishing a new version changes no running instance: it goes on with the definition it started with.</summary>
    [Fact]
    public async Task RunningInstance_KeepsItsVersion_WhenANewOneIsPublished_NewEntriesTakeTheNew()
    {
        var p = await Pipeline.CreateAsync();
        var first = Pipeline.Signup("7001");
        var second = Pipeline.Signup("7002");
        await p.Events.TryAddAsync(first, CancellationToken.None);
        await p.Events.TryAddAsync(second, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", first.EventId), p.Runtime, CancellationToken.None);

        var dayTwo = (SendStep)JourneyCatalog.Welcome.Steps[2];
        var v2 = JourneyCatalog.Welcome with { Steps = [.. JourneyCatalog.Welcome.Steps.Take(2), dayTwo with { Template = "welcome-day2-v2" }] };
        Assert.IsType<JourneyResult.Ok>(await p.Library.SaveDraftAsync(v2, CancellationToken.None));
        Assert.IsType<JourneyResult.Ok>(await p.Library.PublishAsync("welcome", CancellationToken.None));
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7002", second.EventId), p.Runtime, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.Runtime.FireDueTimersAsync();

        Assert.Equal("welcome-day2", (await p.DecidedSendsAsync(Customer)).Single(o => o.Channel == ChannelNames.Sms).Template);
        Assert.Equal("welcome-day2-v2", (await p.DecidedSendsAsync(new CustomerKey("shopify", "7002"))).Single(o => o.Channel == ChannelNames.Sms).Template);
        Assert.Equal((1, 2), ((await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Definition.Version,
            (await p.Instances.GetAsync(new CustomerKey("shopify", "7002"), "welcome", CancellationToken.None))!.Value.Definition.Version));
    }

    [Fact]
    public async Task JourneyEventHandler_EventTheInstanceDoesNotAwait_WritesNothingAndSendsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var signup = Pipeline.Signup("7001");
        var view = new Core.Events.CustomerEvent
        {
            EventId = "web-view-1", Customer = Customer, Type = Core.Events.EventTypes.PageViewed, OccurredAt = Pipeline.Morning.AddHours(1),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(view, CancellationToken.None);
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        var before = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version;
        p.Time.Advance(TimeSpan.FromHours(1));

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", view.EventId), p.Runtime, CancellationToken.None);

        Assert.Equal(before, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version);
        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
    }

    private static async Task<(Core.Events.CustomerEvent Signup, Core.Events.CustomerEvent Order)> StoreSignupAndOrderFiveHoursLaterAsync(Pipeline p)
    {
        var signup = Pipeline.Signup("7001");
        var order = new Core.Events.CustomerEvent
        {
            EventId = "shopify-order-1", Customer = Customer, Type = Core.Events.EventTypes.OrderPlaced, OccurredAt = Pipeline.Morning.AddHours(5),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(order, CancellationToken.None);
        return (signup, order);
    }

    [Fact]
    public async Task JourneyEventHandler_EmailCapReachedByAMessageStillQueued_SkipsTheSecondJourneysEmail()
    {
        var p = await Pipeline.CreateAsync(rules: new CrossJourneyRules { Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Email] = new(1, null) } });
        var flashOffer = new JourneyDefinition
        {
            Id = "flash-offer", Version = 1, Name = "Offer on checkout", Priority = 10, Entry = JourneyEntry.OnEvent(Core.Events.EventTypes.CheckoutStarted),
            Steps = [new SendStep { Id = "offer", Channel = ChannelNames.Email, Template = "abandoned-checkout-offer", Class = MessageClass.Ad }],
        };
        await p.Library.SeedAsync([flashOffer], CancellationToken.None);
        var signup = Pipeline.Signup("7001");
        var checkout = new Core.Events.CustomerEvent
        {
            EventId = "shopify-checkout-1", Customer = Customer, Type = Core.Events.EventTypes.CheckoutStarted, OccurredAt = Pipeline.Morning.AddHours(1),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(checkout, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromHours(1));

        // The welcome coupon is still in its queue (no worker ran), yet it counts against today's email cap.
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", checkout.EventId), p.Runtime, CancellationToken.None);

        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
        var offer = (await p.Instances.GetAsync(Customer, "flash-offer", CancellationToken.None))!.Value;
        Assert.Contains(offer.History, h => h.What == "frequency cap on email: skipped");
    }

    [Fact]
    public async Task JourneyEventHandler_TwoJourneysStartOnOneEventUnderADailyCap_OnlyTheHigherPrioritySends()
    {
        var p = await Pipeline.CreateAsync(rules: new CrossJourneyRules { Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Email] = new(1, null) } });
        JourneyDefinition OfferOnCheckout(string id, int priority) => new()
        {
            Id = id, Version = 1, Name = id, Priority = priority, Entry = JourneyEntry.OnEvent(Core.Events.EventTypes.CheckoutStarted),
            Steps = [new SendStep { Id = "offer", Channel = ChannelNames.Email, Template = "abandoned-checkout-offer", Class = MessageClass.Ad }],
        };
        await p.Library.SeedAsync([OfferOnCheckout("low-offer", 10), OfferOnCheckout("high-offer", 90)], CancellationToken.None);
        var checkout = new Core.Events.CustomerEvent
        {
            EventId = "shopify-checkout-1", Customer = Customer, Type = Core.Events.EventTypes.CheckoutStarted, OccurredAt = Pipeline.Morning,
        };
        await p.Events.TryAddAsync(checkout, CancellationToken.None);

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", checkout.EventId), p.Runtime, CancellationToken.None);

        Assert.Equal(["high-offer"], (await p.DecidedSendsAsync(Customer)).Select(o => o.JourneyId));
        var low = (await p.Instances.GetAsync(Customer, "low-offer", CancellationToken.None))!.Value;
        Assert.Contains(low.History, h => h.What == "frequency cap on email: skipped");
    }

    [Fact]
    public async Task JourneyEventHandler_ShopReportsAConsentChange_LedgerRecordsItOnceAndTheSignupItself()
    {
        var p = await Pipeline.CreateAsync();
        var update = await SignedUpThenWithdrawsSmsAsync(p);
        var afterSignup = await p.ConsentLedger.ListAsync(Customer, CancellationToken.None);

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", update.EventId), p.Runtime, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", update.EventId), p.Runtime, CancellationToken.None); // redelivered

        Assert.Empty(afterSignup); // consent given on the shop's signup form is the shop's record
        var entry = Assert.Single(await p.ConsentLedger.ListAsync(Customer, CancellationToken.None));
        Assert.Equal((Core.Consent.ConsentMedia.Sms, false, "shopify customer.updated", Pipeline.Morning.AddHours(3)), (entry.Medium, entry.Granted, entry.Source, entry.At));
    }

    [Fact]
    public async Task ProfileUpdater_StoppedRightAfterSavingAConsentChange_TheRedeliveryStillFindsItInTheLedger()
    {
        var p = await Pipeline.CreateAsync();
        var update = await SignedUpThenWithdrawsSmsAsync(p);

        // The worker dies the moment the profile is saved; the redelivered event then meets the profile already changed.
        await Assert.ThrowsAsync<OperationCanceledException>(() => new ProfileUpdater(new StopsAfterSaving(p.Profiles), p.ConsentLedger).ApplyAsync(update, CancellationToken.None));
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", update.EventId), p.Runtime, CancellationToken.None);

        Assert.False((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.Consent.Sms);
        var entry = Assert.Single(await p.ConsentLedger.ListAsync(Customer, CancellationToken.None));
        Assert.Equal((Core.Consent.ConsentMedia.Sms, false, Pipeline.Morning.AddHours(3)), (entry.Medium, entry.Granted, entry.At));
    }

    /// <summary>Customer 7001's signup, handled, and their later withdrawal of SMS consent at the shop, stored (the event returned).</summary>
    private static async Task<Core.Events.CustomerEvent> SignedUpThenWithdrawsSmsAsync(Pipeline p)
    {
        var signup = Pipeline.Signup("7001");
        var update = Pipeline.Signup("7001", smsConsent: false, updatedAt: Pipeline.Morning.AddHours(3)) with
        {
            EventId = "shopify-update-1", Type = Core.Events.EventTypes.CustomerUpdated, OccurredAt = Pipeline.Morning.AddHours(3),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(update, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        return update;
    }

    /// <summary>The real store, and a process that stops right after a profile is written.</summary>
    private sealed class StopsAfterSaving(IProfileStore inner) : IProfileStore
    {
        public Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken) => inner.GetAsync(customer, cancellationToken);

        public async Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken)
        {
            await inner.TrySaveAsync(profile, expectedVersion, cancellationToken);
            throw new OperationCanceledException("the process stopped");
        }

        public Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken) => inner.DeleteAsync(customer, cancellationToken);

        public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
            inner.ListCustomersOfShopAsync(platform, shopDomain, cancellationToken);

        public IAsyncEnumerable<CustomerProfile> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

        public IAsyncEnumerable<(CustomerProfile Profile, DateTimeOffset SavedAt)> ListChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
            inner.ListChangedSinceAsync(since, cancellationToken);
    }
}
