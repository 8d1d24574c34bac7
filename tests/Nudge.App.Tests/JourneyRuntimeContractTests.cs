using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Nudge.App.Hosting;
using Nudge.App.Journeys;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// One behaviour for every journey runtime: the durable one (orchestrations on the Azure Storage backend, Azurite)
/// and the in-memory one the handler tests use. Each test starts the welcome journey through the starter, as the
/// event handler does, and observes what every runtime must leave behind: the instance's row and the delivery queues.
/// </summary>
public abstract class JourneyRuntimeContract : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    protected abstract double ClockSpeed { get; }

    protected NudgeTestApp App => _app;

    protected abstract IJourneyRuntime Runtime { get; }

    protected abstract JourneyStarter Starter { get; }

    /// <summary>Lets <paramref name="span"/> of virtual time pass for the runtime's timers.</summary>
    protected abstract Task PassAsync(TimeSpan span);

    protected abstract DateTimeOffset Now { get; }

    public async Task InitializeAsync()
    {
        // The app's stores and effects on Azurite; its queue and timer triggers stay off, so the queues show what the
        // runtime left there.
        _app = await NudgeTestApp.StartAsync(ClockSpeed, settings: new Dictionary<string, string?> { ["Nudge:LocalTriggerFunctions"] = "none" });
        await CreatedAsync();
    }

    protected virtual Task CreatedAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static readonly CustomerKey Customer = new("shopify", "7001");

    private IJourneyInstanceStore Instances => _app.Services.GetRequiredService<IJourneyInstanceStore>();

    private CustomerContext Context => CustomerContexts.For(null, TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul"));

    private Task<JourneyInstance?> RowAsync() => Task.Run(async () => (await Instances.GetAsync(Customer, "welcome", CancellationToken.None))?.Value);

    protected async Task<int> QueuedAsync(string channel) =>
        (await TestStorage.Clients().Queues.GetQueueClient(_app.Names.DeliveryQueue(channel)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    private Task<T> EventuallyAsync<T>(Func<Task<T>> probe, Func<T, bool> condition, string what) =>
        TestStorage.EventuallyAsync(probe, condition, TimeSpan.FromSeconds(60), what);

    private async Task<JourneyInstance> StartWelcomeAsync()
    {
        Assert.Equal(RunOutcome.Started, await Starter.StartAsync(Runtime, JourneyCatalog.Welcome, Customer, Context, new EntryTrigger("signup-1", null, new Dictionary<string, string>()), CancellationToken.None));
        return (await RowAsync())!;
    }

    [Fact]
    public async Task Start_CarriesOutTheFirstDecision_ARepeatedStartStartsNoSecondRun_AndItsSendsKeepTheirIds()
    {
        var started = await StartWelcomeAsync();

        await EventuallyAsync(() => QueuedAsync(ChannelNames.Email), n => n == 1, "the coupon to be queued");
        Assert.False(await Runtime.StartAsync(started, CancellationToken.None));
        // A redelivered signup queues the first sends again (its first handling may have stopped before them): by the
        // same delivery id, which the delivery worker sends once.
        Assert.Equal(RunOutcome.Repeated, await Starter.StartAsync(Runtime, JourneyCatalog.Welcome, Customer, Context, new EntryTrigger("signup-1", null, new Dictionary<string, string>()), CancellationToken.None));

        Assert.Single((await QueuedDeliveryIdsAsync(ChannelNames.Email)).Distinct());
        Assert.Equal((InstanceStatus.Active, 1), ((await RowAsync())!.Status, (await RowAsync())!.TimerSequence));
    }

    private async Task<List<string>> QueuedDeliveryIdsAsync(string channel)
    {
        var queue = TestStorage.Clients().Queues.GetQueueClient(_app.Names.DeliveryQueue(channel));
        var peeked = await queue.PeekMessagesAsync(maxMessages: 32);
        return peeked.Value.Select(m => DeliveryMessage.TryParse(m.Body.ToMemory().Span)!.DeliveryId).ToList();
    }

    [Fact]
    public async Task TimerFires_AfterTwoDays_TheSmsIsQueuedOnceAndTheInstanceCompletes()
    {
        await StartWelcomeAsync();

        await PassAsync(TimeSpan.FromDays(2.5)); // past day 2, and past the morning if day 2 fell in the night
        var done = await EventuallyAsync(RowAsync, r => r!.IsEnded, "the welcome to complete");

        Assert.Equal(InstanceStatus.Completed, done!.Status);
        await EventuallyAsync(() => QueuedAsync(ChannelNames.Sms), n => n == 1, "the SMS its last decision sent"); // the row is written first
        Assert.Equal(1, await QueuedAsync(ChannelNames.Email));
    }

    [Fact]
    public async Task Raise_OrderWhileWaiting_EndsTheInstanceAndNoSmsFollows()
    {
        var started = await StartWelcomeAsync();
        var order = new JourneyNews(EventTypes.OrderPlaced, "order-1", null, new Dictionary<string, string> { ["event.type"] = EventTypes.OrderPlaced }, Context);

        await Runtime.RaiseAsync(started, order, CancellationToken.None);
        var ended = await EventuallyAsync(RowAsync, r => r!.IsEnded, "the order to end the welcome");
        await PassAsync(TimeSpan.FromDays(2.5));

        Assert.Equal((InstanceStatus.Exited, "goal: order.placed", true), (ended!.Status, ended.EndReason, ended.Converted));
        Assert.Equal(0, await QueuedAsync(ChannelNames.Sms));
    }

    [Fact]
    public async Task Raise_OrderBeforeTheRunIsHandedOver_StartsTheRunWithIt_AndNoSmsFollows()
    {
        // The starter has claimed the row (its first decision made) and not yet started the run when the order comes.
        var trigger = new EntryTrigger("signup-1", null, new Dictionary<string, string>());
        var claimed = JourneyInterpreter.Begin(JourneyInterpreter.Entering(JourneyCatalog.Welcome, Customer, Now, trigger, 1), Now, Context).Instance;
        Assert.NotNull(await Instances.TrySaveAsync(claimed, null, CancellationToken.None));
        var order = new JourneyNews(EventTypes.OrderPlaced, "order-1", null, new Dictionary<string, string> { ["event.type"] = EventTypes.OrderPlaced }, Context);

        await Runtime.RaiseAsync(claimed, order, CancellationToken.None);
        var ended = await EventuallyAsync(RowAsync, r => r!.IsEnded, "the order to end the welcome");
        // The starter's hand-over comes late (or its redelivery does): the run exists, the instance has ended.
        Assert.Equal(RunOutcome.Repeated, await Starter.StartAsync(Runtime, JourneyCatalog.Welcome, Customer, Context, trigger, CancellationToken.None));
        await PassAsync(TimeSpan.FromDays(2.5));

        Assert.Equal((InstanceStatus.Exited, "goal: order.placed"), (ended!.Status, ended.EndReason));
        Assert.Equal((InstanceStatus.Exited, 0), ((await RowAsync())!.Status, await QueuedAsync(ChannelNames.Sms)));
    }

    [Fact]
    public async Task Raise_EventTheInstanceDoesNotMeet_LeavesItWaiting_TheTimerStillFires()
    {
        var started = await StartWelcomeAsync();
        var view = new JourneyNews(EventTypes.PageViewed, "view-1", null, new Dictionary<string, string>(), Context);

        await Runtime.RaiseAsync(started, view, CancellationToken.None);
        await PassAsync(TimeSpan.FromDays(2.5));
        var done = await EventuallyAsync(RowAsync, r => r!.IsEnded, "the welcome to complete");

        Assert.Equal(InstanceStatus.Completed, done!.Status);
        await EventuallyAsync(() => QueuedAsync(ChannelNames.Sms), n => n == 1, "the SMS its last decision sent");
    }

    [Fact]
    public async Task Erase_ThenTheRowIsDeleted_TheRunWritesNothingMore()
    {
        var started = await StartWelcomeAsync();
        await EventuallyAsync(() => QueuedAsync(ChannelNames.Email), n => n == 1, "the coupon to be queued");

        await Runtime.EraseAsync(started.InstanceId, CancellationToken.None);
        await Instances.DeleteForCustomerAsync(Customer, CancellationToken.None);
        await PassAsync(TimeSpan.FromDays(2.5));
        await Runtime.EraseAsync(started.InstanceId, CancellationToken.None); // erasing twice is harmless

        Assert.Null(await RowAsync());
        Assert.Equal(0, await QueuedAsync(ChannelNames.Sms));
        await ErasedAsync(started.InstanceId);
    }

    /// <summary>What else an erased run must not leave behind in this runtime.</summary>
    protected abstract Task ErasedAsync(string instanceId);
}

/// <summary>The durable runtime: journey orchestrations on the local task hub (Azure Storage backend on Azurite), in fast virtual time.</summary>
public sealed class DurableJourneyRuntimeContractTests : JourneyRuntimeContract
{
    protected override double ClockSpeed => 2 * 86400 / 4.0;

    private LocalTaskHub Hub => App.Services.GetRequiredService<LocalTaskHub>();

    protected override IJourneyRuntime Runtime => new DurableJourneyRuntime(Hub.Client);

    protected override JourneyStarter Starter => App.Services.GetRequiredService<JourneyStarter>();

    protected override DateTimeOffset Now => App.Services.GetRequiredService<Core.Time.VirtualClock>().GetUtcNow();

    protected override async Task PassAsync(TimeSpan span)
    {
        var clock = App.Services.GetRequiredService<Core.Time.VirtualClock>();
        var until = clock.GetUtcNow() + span;
        await TestStorage.EventuallyAsync(() => Task.FromResult(clock.GetUtcNow()), now => now >= until, TimeSpan.FromSeconds(60), "virtual time to pass");
    }

    protected override async Task ErasedAsync(string instanceId) =>
        Assert.Null(await Hub.Client.GetInstanceAsync(OrchestrationIds.For(instanceId)));

    /// <summary>Waits for an order up to five days; each checkout change restarts the wait; then a note.</summary>
    private static readonly JourneyDefinition PatientNudge = new()
    {
        Id = "patient-nudge", Version = 1, Name = "Patient nudge", Entry = JourneyEntry.OnEvent(EventTypes.CheckoutStarted),
        Steps =
        [
            new WaitForEventStep { Id = "idle", Event = EventTypes.OrderPlaced, ResetOn = EventTypes.CheckoutUpdated, Timeout = TimeSpan.FromDays(5), OnEvent = "end", OnTimeout = "note" },
            new SendStep { Id = "note", Channel = ChannelNames.Sms, Template = "note", Class = MessageClass.Informational },
            new ExitStep { Id = "end" },
        ],
    };

    [Fact]
    public async Task AnInstanceTakingMoreRoundsThanAGeneration_ContinuesAsNewWithItsState_AndFinishes()
    {
        var customer = new CustomerKey("shopify", "7002");
        var context = CustomerContexts.For(null, TimeZoneInfo.Utc);
        Assert.Equal(RunOutcome.Started, await Starter.StartAsync(Runtime, PatientNudge, customer, context, null, CancellationToken.None));
        var instanceId = JourneyInterpreter.InstanceIdFor(PatientNudge.Id, customer);
        var started = (await App.Services.GetRequiredService<IJourneyInstanceStore>().GetAsync(customer, PatientNudge.Id, CancellationToken.None))!.Value;
        var changes = JourneyOrchestration.RoundsPerGeneration + 4;
        for (var i = 0; i < changes; i++)
        {
            await Runtime.RaiseAsync(started, new JourneyNews(EventTypes.CheckoutUpdated, $"change-{i}", null, new Dictionary<string, string>(), context), CancellationToken.None);
        }

        var done = await Hub.Client.WaitForInstanceCompletionAsync(OrchestrationIds.For(instanceId), getInputsAndOutputs: true, new CancellationTokenSource(TimeSpan.FromSeconds(90)).Token);

        Assert.Equal("exit step", done.ReadOutputAs<string>()); // the note went out, then the journey's exit
        Assert.Equal(1, await QueuedAsync(ChannelNames.Sms));
        // The last generation began from the state the earlier ones left: its input already holds restarts.
        var input = JourneyOrchestration.ReadRun(done.ReadInputAs<string>()).Instance;
        Assert.Contains(input.History, h => h.What.Contains("restarted the wait", StringComparison.Ordinal));
        var row = (await App.Services.GetRequiredService<IJourneyInstanceStore>().GetAsync(customer, PatientNudge.Id, CancellationToken.None))!.Value;
        Assert.Equal(changes, row.History.Count(h => h.What.Contains("restarted the wait", StringComparison.Ordinal)));
        Assert.Equal(InstanceStatus.Exited, row.Status);
    }
}

/// <summary>The in-memory runtime of the handler tests, on the same stores, with a fake clock moved by hand.</summary>
public sealed class InMemoryJourneyRuntimeContractTests : JourneyRuntimeContract
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(9)));
    private InMemoryJourneyRuntime _runtime = null!;
    private JourneyStarter _starter = null!;

    protected override double ClockSpeed => 1;

    protected override IJourneyRuntime Runtime => _runtime;

    protected override JourneyStarter Starter => _starter;

    protected override DateTimeOffset Now => _time.GetUtcNow();

    protected override Task CreatedAsync()
    {
        _runtime = new InMemoryJourneyRuntime(App.Services.GetRequiredService<InstanceEffects>(), _time);
        _starter = new JourneyStarter(App.Services.GetRequiredService<IJourneyInstanceStore>(), App.Services.GetRequiredService<InstanceEffects>(),
            App.Services.GetRequiredService<IMarketingJourneyLedger>(), _time);
        return Task.CompletedTask;
    }

    protected override async Task PassAsync(TimeSpan span)
    {
        var step = TimeSpan.FromHours(1);
        for (var passed = TimeSpan.Zero; passed < span; passed += step)
        {
            _time.Advance(step);
            await _runtime.FireDueTimersAsync();
        }
    }

    protected override Task ErasedAsync(string instanceId)
    {
        Assert.False(_runtime.Runs.ContainsKey(instanceId));
        return Task.CompletedTask;
    }
}
