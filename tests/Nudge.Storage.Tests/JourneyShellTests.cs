using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

/// <summary>The durable shell on Azurite: one instance per customer, outbox flushed exactly once in effect.</summary>
public class JourneyShellTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    [Fact]
    public async Task StartAsync_ConcurrentStartsForOneCustomer_OneInstanceAndOneDeliveryMessage()
    {
        var p = await Pipeline.CreateAsync();
        var context = p.Context(null);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, context, null, CancellationToken.None)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.All(outcomes.Where(o => o != RunOutcome.Started), o => Assert.Equal(RunOutcome.AlreadyExists, o));
        // Losers of the race may hand the winner's outbox over again: copies of one delivery, sent once.
        Assert.Single((await p.QueuedDeliveriesAsync(ChannelNames.Email)).Select(m => m.DeliveryId).Distinct());
        var order = (await p.DecidedSendsAsync(Customer))[0];
        Assert.Equal((ChannelNames.Email, "welcome-coupon", MessageClass.Ad), (order.Channel, order.Template, order.Class));
        var stored = await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None);
        Assert.Empty(stored!.Value.Outbox);
        Assert.Equal(1, stored.Value.Instance.TimerSequence);
    }

    [Fact]
    public async Task StartAsync_KnownAbsentButRacing_StillOneInstanceAndOneDeliveryMessage()
    {
        var p = await Pipeline.CreateAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, knownAbsent: true)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.Single((await p.QueuedDeliveriesAsync(ChannelNames.Email)).Select(m => m.DeliveryId).Distinct());
    }

    [Fact]
    public async Task ApplyAsync_CrashLeftAnOutbox_NextTouchCarriesItOut()
    {
        var p = await Pipeline.CreateAsync();
        // The decision was saved, then the process died before carrying out its commands.
        var decision = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, p.Clock.GetUtcNow(), p.Context(null));
        await p.Instances.TrySaveAsync(new StoredInstance(decision.Instance, decision.Commands), null, CancellationToken.None);

        var outcome = await p.Runner.ApplyAsync(Customer, "welcome", at => new EventArrived(at, "customer.signed_up", "irrelevant"), p.Context(null), CancellationToken.None);

        Assert.Equal(RunOutcome.Unchanged, outcome);
        Assert.Single(await p.DecidedSendsAsync(Customer));
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-email"));
        Assert.Empty((await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Outbox);
    }

    [Fact]
    public async Task TimerHandler_DayTwo_QueuesSmsOnceEvenIfTheTimerIsDeliveredTwice()
    {
        var p = await Pipeline.CreateAsync();
        await p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None);
        var timers = p.TimerHandler;
        var dayTwo = new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2));
        p.Time.Advance(TimeSpan.FromDays(2));

        var first = await timers.HandleAsync(dayTwo, CancellationToken.None);
        var second = await timers.HandleAsync(dayTwo, CancellationToken.None);

        Assert.Equal((TimerHandling.Fired, TimerHandling.Fired), (first, second));
        Assert.Equal([ChannelNames.Email, ChannelNames.Sms], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-sms"));
        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
        Assert.Equal(InstanceStatus.Completed, instance.Status);
    }

    [Fact]
    public async Task TimerHandler_BeforeDueTime_ReschedulesAndChangesNothing()
    {
        var p = await Pipeline.CreateAsync();
        await p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None);
        var timers = p.TimerHandler;

        var outcome = await timers.HandleAsync(new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)), CancellationToken.None);

        Assert.Equal(TimerHandling.Rescheduled, outcome);
        Assert.Single(await p.DecidedSendsAsync(Customer));
        Assert.Equal(2, await p.AllMessagesAsync("journey-timers"));
    }

    [Fact]
    public async Task JourneyEventHandler_OrderWhileWaiting_ExitsAndDayTwoSendsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var (signup, order) = await StoreSignupAndOrderFiveHoursLaterAsync(p);

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None);
        p.Time.Advance(TimeSpan.FromHours(5));
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.TimerHandler
            .HandleAsync(new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)), CancellationToken.None);

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
        Assert.Equal((InstanceStatus.Exited, "goal: order.placed"), (instance.Status, instance.EndReason));
        Assert.Equal([ChannelNames.Email], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.NotNull((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.FirstOrderAt);
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
    public async Task TimerHandler_AwaitedEventHandledWhileTheInstanceWasStarting_TakesTheEventBranch(bool viewedDuringTheStart, string expectedChannel)
    {
        var p = await Pipeline.CreateAsync();
        await p.Library.SeedAsync([BrowseAfterSignup], CancellationToken.None);
        var signup = Pipeline.Signup("7001");
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "m1");
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
        var timer = new JourneyTimerMessage("shopify", "7001", BrowseAfterSignup.Id, 1, Pipeline.Morning.AddDays(1));
        await p.TimerHandler.HandleAsync(timer, CancellationToken.None, "t1");

        Assert.Contains(expectedChannel, (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.DoesNotContain(expectedChannel == ChannelNames.Email ? ChannelNames.Sms : ChannelNames.Email,
            (await p.DecidedSendsAsync(Customer)).Where(o => o.JourneyId == BrowseAfterSignup.Id).Select(o => o.Channel));
    }

    [Fact]
    public async Task TimerHandler_OrderHandledWhileTheWelcomeWasStarting_DayTwoSendsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var (signup, order) = await StoreSignupAndOrderFiveHoursLaterAsync(p);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "m1");
        // The order's worker updated the profile but listed the instances before the welcome existed: it never got the order.
        await p.ProfileUpdater.ApplyAsync(order, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));

        await p.TimerHandler.HandleAsync(new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)), CancellationToken.None, "t1");

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
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

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), CancellationToken.None);
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None);

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
        Assert.Equal(InstanceStatus.Exited, instance.Status);
        Assert.Empty(await p.DecidedSendsAsync(Customer));
    }

    [Fact]
    public async Task StartAsync_FromAQueueMessage_KeepsTheOutboxUntilItsOwnTimerProvesIt()
    {
        var p = await Pipeline.CreateAsync();
        await p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, writer: "event-message-1");
        var started = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value;
        p.Time.Advance(TimeSpan.FromDays(2));

        await p.TimerHandler.HandleAsync(new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)), CancellationToken.None, "timer-message-1");

        Assert.Equal(("event-message-1", 2), (started.WrittenBy, started.Outbox.Count)); // not cleared: one write saved
        Assert.Equal(1, await p.AllMessagesAsync("delivery-email")); // the timer proved it done: not carried out again
        Assert.Equal(1, await p.AllMessagesAsync("delivery-sms"));
        Assert.Equal([ChannelNames.Email, ChannelNames.Sms], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
        Assert.Equal(InstanceStatus.Completed, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance.Status);
    }

    [Fact]
    public async Task TimerHandler_RedeliveryOfTheMessageThatStoppedHalfWay_CarriesItsOutboxOut()
    {
        var (p, dayTwo) = await DayTwoDecisionSavedButNotCarriedOutAsync("timer-message-1");

        await p.TimerHandler.HandleAsync(dayTwo, CancellationToken.None, "timer-message-1");
        await p.TimerHandler.HandleAsync(dayTwo, CancellationToken.None, "a-copy-of-the-timer");

        Assert.Equal(1, await p.AllMessagesAsync("delivery-sms")); // the redelivery sent it; the copy was dropped
        Assert.Equal([ChannelNames.Email, ChannelNames.Sms], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
    }

    [Fact]
    public async Task TimerHandler_ReplayedDeadLetterOfTheMessageThatStoppedHalfWay_CarriesItsOutboxOut()
    {
        // "timer-message-1" went to the poison queue after its attempts; a replay brings its body back under a new id.
        var (p, dayTwo) = await DayTwoDecisionSavedButNotCarriedOutAsync("timer-message-1");

        await p.TimerHandler.HandleAsync(dayTwo, CancellationToken.None, "a-copy-of-the-timer");
        Assert.Equal(0, await p.AllMessagesAsync("delivery-sms")); // an ordinary copy is stale: dropped
        await p.TimerHandler.HandleAsync(dayTwo with { Replayed = true }, CancellationToken.None, "replayed-timer-message");

        Assert.Equal(1, await p.AllMessagesAsync("delivery-sms"));
        Assert.Equal([ChannelNames.Email, ChannelNames.Sms], (await p.DecidedSendsAsync(Customer)).Select(o => o.Channel));
    }

    [Fact]
    public async Task JourneyEventHandler_ReplayedDeadLetterOfTheEntryEvent_CarriesOutTheOutboxItsFirstAttemptSaved()
    {
        var p = await Pipeline.CreateAsync();
        var signup = Pipeline.Signup("7001");
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        // The welcome's start was saved by a message whose attempts then all failed before carrying it out.
        var start = JourneyInterpreter.Start(JourneyCatalog.Welcome, Customer, p.Clock.GetUtcNow(), p.Context(null), new EntryTrigger(signup.EventId, null, new Dictionary<string, string>()));
        Assert.NotNull(await p.Instances.TrySaveAsync(new StoredInstance(start.Instance, start.Commands, $"lost-message/{signup.EventId}"), null, CancellationToken.None));

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "a-later-duplicate");
        Assert.Equal(0, await p.AllMessagesAsync("delivery-email")); // not its writer: a duplicate event finishes nothing
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId, Replayed: true), CancellationToken.None, "replayed-message");

        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
        Assert.Equal(1, await p.AllMessagesAsync("journey-timers"));
    }

    /// <summary>The welcome's day-2 decision was saved by timer message <paramref name="writer"/>, which stopped before sending.</summary>
    private static async Task<(Pipeline P, JourneyTimerMessage DayTwo)> DayTwoDecisionSavedButNotCarriedOutAsync(string writer)
    {
        var p = await Pipeline.CreateAsync();
        await p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, writer: "event-message-1");
        p.Time.Advance(TimeSpan.FromDays(2));
        var stored = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!;
        var decision = JourneyInterpreter.Apply(stored.Value.Instance, new TimerFired(p.Clock.GetUtcNow(), 1), p.Context(null));
        Assert.NotNull(await p.Instances.TrySaveAsync(new StoredInstance(decision.Instance, decision.Commands, writer), stored.Version, CancellationToken.None));
        return (p, new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)));
    }

    [Fact]
    public async Task TimerHandler_CopiesOfATimer_NeverMultiply()
    {
        var p = await Pipeline.CreateAsync();
        var timers = p.TimerHandler;
        await p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, writer: "event-message-1");
        p.Time.Advance(TimeSpan.FromDays(2));
        var dayTwo = new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2));
        await timers.HandleAsync(dayTwo, CancellationToken.None, "timer-message-1");
        var afterFirst = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version;

        // Copies are what an outbox carried out a second time leaves behind: different messages, same timer.
        await timers.HandleAsync(dayTwo, CancellationToken.None, "copy-1");
        await timers.HandleAsync(dayTwo, CancellationToken.None, "copy-2");

        Assert.Equal(afterFirst, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version); // no write
        Assert.Equal(1, await p.AllMessagesAsync("delivery-sms"));
        Assert.Equal(1, await p.AllMessagesAsync("journey-timers")); // only the original day-2 timer
    }

    [Fact]
    public async Task JourneyEventHandler_EventThatChangesNothingWhileWaiting_WritesNothingAndCopiesNothing()
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
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "event-message-1");
        var before = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version;
        p.Time.Advance(TimeSpan.FromHours(1));

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", view.EventId), CancellationToken.None, "event-message-2");

        Assert.Equal(before, (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Version);
        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
        Assert.Equal(1, await p.AllMessagesAsync("journey-timers"));
    }

    [Fact]
    public async Task JourneyEventHandler_SecondEventOfTheSameMessage_IsNotTakenForARedelivery()
    {
        var p = await Pipeline.CreateAsync();
        var signup = Pipeline.Signup("7001");
        var view = new Core.Events.CustomerEvent
        {
            EventId = "web-view-1", Customer = Customer, Type = Core.Events.EventTypes.PageViewed, OccurredAt = Pipeline.Morning,
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(view, CancellationToken.None);

        // One journey-events message may carry several events of one customer.
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "batch-message-1");
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", view.EventId), CancellationToken.None, "batch-message-1");

        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
        Assert.Equal(1, await p.AllMessagesAsync("journey-timers"));
    }

    [Fact]
    public async Task JourneyEventHandler_OrderWhileAnOutboxIsUnproven_ExitsAndStillSendsEachMessageOnce()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var (signup, order) = await StoreSignupAndOrderFiveHoursLaterAsync(p);
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "event-message-1");
        p.Time.Advance(TimeSpan.FromHours(5));

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), CancellationToken.None, "event-message-2");
        var deliveries = await p.DrainDeliveriesAsync(ChannelNames.Email);

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
        Assert.Equal(InstanceStatus.Exited, instance.Status);
        Assert.Equal(1, p.Sender.Calls); // the coupon went out once, however many copies of its message were queued
        Assert.Contains(DeliveryHandling.Sent, deliveries);
        Assert.Single(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None)); // the worker's row
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
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "event-message-1");
        p.Time.Advance(TimeSpan.FromHours(1));

        // The welcome coupon is still in its queue (no worker ran), yet it counts against today's email cap.
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", checkout.EventId), CancellationToken.None, "event-message-2");

        Assert.Equal(1, await p.AllMessagesAsync("delivery-email"));
        var offer = (await p.Instances.GetAsync(Customer, "flash-offer", CancellationToken.None))!.Value.Instance;
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

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", checkout.EventId), CancellationToken.None, "event-message-1");

        Assert.Equal(["high-offer"], (await p.DecidedSendsAsync(Customer)).Select(o => o.JourneyId));
        var low = (await p.Instances.GetAsync(Customer, "low-offer", CancellationToken.None))!.Value.Instance;
        Assert.Contains(low.History, h => h.What == "frequency cap on email: skipped");
    }

    [Fact]
    public async Task JourneyEventHandler_ShopReportsAConsentChange_LedgerRecordsItOnceAndTheSignupItself()
    {
        var p = await Pipeline.CreateAsync();
        var signup = Pipeline.Signup("7001");
        var update = Pipeline.Signup("7001", smsConsent: false, updatedAt: Pipeline.Morning.AddHours(3)) with
        {
            EventId = "shopify-update-1", Type = Core.Events.EventTypes.CustomerUpdated, OccurredAt = Pipeline.Morning.AddHours(3),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(update, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None, "m1");
        var afterSignup = await p.ConsentLedger.ListAsync(Customer, CancellationToken.None);

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", update.EventId), CancellationToken.None, "m2");
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", update.EventId), CancellationToken.None, "m2"); // redelivered

        Assert.Empty(afterSignup); // consent given on the shop's signup form is the shop's record
        var entry = Assert.Single(await p.ConsentLedger.ListAsync(Customer, CancellationToken.None));
        Assert.Equal((Core.Consent.ConsentMedia.Sms, false, "shopify customer.updated", Pipeline.Morning.AddHours(3)), (entry.Medium, entry.Granted, entry.Source, entry.At));
    }
}
