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
    public async Task StartAsync_ConcurrentStartsForOneCustomer_OneInstanceAndOneDeliveryRow()
    {
        var p = await Pipeline.CreateAsync();
        var context = p.Context(null);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, context, null, CancellationToken.None)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.All(outcomes.Where(o => o != RunOutcome.Started), o => Assert.Equal(RunOutcome.AlreadyExists, o));
        var rows = await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None);
        var row = Assert.Single(rows);
        Assert.Equal((Channels.Email, "welcome-coupon", DeliveryStatus.Queued), (row.Channel, row.Template, row.Status));
        var stored = await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None);
        Assert.Empty(stored!.Value.Outbox);
        Assert.Equal(1, stored.Value.Instance.TimerSequence);
    }

    [Fact]
    public async Task StartAsync_KnownAbsentButRacing_StillOneInstanceAndOneDeliveryRow()
    {
        var p = await Pipeline.CreateAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            p.Runner.StartAsync(JourneyCatalog.Welcome, Customer, p.Context(null), null, CancellationToken.None, knownAbsent: true)));

        Assert.Equal(1, outcomes.Count(o => o == RunOutcome.Started));
        Assert.Single(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None));
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
        Assert.Single(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None));
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
        var rows = await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None);
        Assert.Equal([Channels.Email, Channels.Sms], rows.Select(r => r.Channel));
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
        Assert.Single(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None));
        Assert.Equal(2, await p.AllMessagesAsync("journey-timers"));
    }

    [Fact]
    public async Task JourneyEventHandler_OrderWhileWaiting_ExitsAndDayTwoSendsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var handler = p.EventHandler;
        var signup = Pipeline.Signup("7001");
        var order = new Core.Events.CustomerEvent
        {
            EventId = "shopify-order-1", Customer = Customer, Type = Core.Events.EventTypes.OrderPlaced, OccurredAt = Pipeline.Morning.AddHours(5),
        };
        await p.Events.TryAddAsync(signup, CancellationToken.None);
        await p.Events.TryAddAsync(order, CancellationToken.None);

        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), CancellationToken.None);
        p.Time.Advance(TimeSpan.FromHours(5));
        await handler.HandleAsync(new JourneyEventMessage("shopify", "7001", order.EventId), CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.TimerHandler
            .HandleAsync(new JourneyTimerMessage("shopify", "7001", "welcome", 1, Pipeline.Morning.AddDays(2)), CancellationToken.None);

        var instance = (await p.Instances.GetAsync(Customer, "welcome", CancellationToken.None))!.Value.Instance;
        Assert.Equal((InstanceStatus.Exited, "goal: order.placed"), (instance.Status, instance.EndReason));
        Assert.Equal([Channels.Email], (await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None)).Select(r => r.Channel));
        Assert.NotNull((await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.FirstOrderAt);
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
        Assert.Empty(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None));
    }
}
