using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Testing;
using Microsoft.Extensions.DependencyInjection;
using Nudge.App.Journeys;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The journey orchestrator in the Durable Task SDK's in-process test host (in-memory backend, replaying the
/// orchestrator at every step as a real backend does), with its real activities over the app's stores on Azurite.
/// The test host fires timers by the wall clock, so the orchestrator's virtual clock runs two days in a few seconds.
/// </summary>
public sealed class JourneyOrchestrationTests : IAsyncLifetime
{
    private const double Speed = 2 * 86400 / 3.0;
    private static readonly CustomerKey Customer = new("shopify", "9001");

    private NudgeTestApp _app = null!;
    private DurableTaskTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:LocalTriggerFunctions"] = "none" });
        var now = DateTimeOffset.UtcNow;
        var orchestration = new JourneyOrchestration(new VirtualClock(TimeProvider.System, new ClockAnchor(now, now, Speed)));
        var activities = new JourneyActivities(_app.Services.GetRequiredService<InstanceEffects>());
        _host = await DurableTaskTestHost.StartAsync(tasks =>
        {
            tasks.AddOrchestratorFunc<string, string>(JourneyOrchestration.Name, (context, _) => orchestration.RunAsync(context));
            tasks.AddActivityFunc<string, string>(JourneyOrchestration.ContextActivity, (_, input) => activities.ContextAsync(input, CancellationToken.None));
            tasks.AddActivityFunc<string, bool>(JourneyOrchestration.CarryOutActivity, (_, input) => activities.CarryOutAsync(input, CancellationToken.None));
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _app.DisposeAsync();
    }

    private async Task<string> StartAsync(JourneyDefinition journey)
    {
        var starter = new JourneyStarter(_app.Services.GetRequiredService<IJourneyInstanceStore>(), _app.Services.GetRequiredService<InstanceEffects>(),
            _app.Services.GetRequiredService<IMarketingJourneyLedger>(), TimeProvider.System);
        var context = CustomerContexts.For(null, TimeZoneInfo.Utc); // no quiet hours in the way: day 2 may fall at any hour
        Assert.Equal(RunOutcome.Started, await starter.StartAsync(new DurableJourneyRuntime(_host.Client), journey, Customer, context, null, CancellationToken.None));
        return OrchestrationIds.For(JourneyInterpreter.InstanceIdFor(journey.Id, Customer));
    }

    private Task<OrchestrationMetadata> CompletionAsync(string id) =>
        _host.Client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: true, new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);

    private async Task<int> QueuedAsync(string channel) =>
        (await TestStorage.Clients().Queues.GetQueueClient(_app.Names.DeliveryQueue(channel)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    [Fact]
    public async Task Welcome_TimerWins_CouponThenDayTwoSmsThenCompleted()
    {
        var id = await StartAsync(WelcomeAnyHour);

        var done = await CompletionAsync(id);

        Assert.Equal((OrchestrationRuntimeStatus.Completed, "completed"), (done.RuntimeStatus, done.ReadOutputAs<string>()));
        Assert.Equal((1, 1), (await QueuedAsync(ChannelNames.Email), await QueuedAsync(ChannelNames.Sms)));
        var row = (await _app.Services.GetRequiredService<IJourneyInstanceStore>().GetAsync(Customer, WelcomeAnyHour.Id, CancellationToken.None))!.Value;
        Assert.Equal((InstanceStatus.Completed, 2), (row.Status, row.Sends));
    }

    [Fact]
    public async Task Welcome_OrderArrivesWhileWaiting_EndsAtOnceWithoutSms()
    {
        var id = await StartAsync(WelcomeAnyHour);
        await _host.Client.WaitForInstanceStartAsync(id);
        var order = new JourneyNews(EventTypes.OrderPlaced, "order-1", null, new Dictionary<string, string>(), CustomerContexts.For(null, TimeZoneInfo.Utc));

        await new DurableJourneyRuntime(_host.Client).RaiseAsync(await RowAsync(WelcomeAnyHour), order, CancellationToken.None);
        var done = await CompletionAsync(id);

        Assert.Equal("goal: order.placed", done.ReadOutputAs<string>());
        Assert.Equal((1, 0), (await QueuedAsync(ChannelNames.Email), await QueuedAsync(ChannelNames.Sms)));
    }

    [Fact]
    public async Task Welcome_OrderBeforeTheRunIsHandedOver_StartsTheRunWithIt_EndsWithoutSms()
    {
        // The starter claimed the row and queued the coupon, and has not started the run yet, when the order comes.
        var claimed = await ClaimAsync(WelcomeAnyHour);
        var order = new JourneyNews(EventTypes.OrderPlaced, "order-1", null, new Dictionary<string, string>(), CustomerContexts.For(null, TimeZoneInfo.Utc));

        await new DurableJourneyRuntime(_host.Client).RaiseAsync(claimed, order, CancellationToken.None);
        var done = await CompletionAsync(OrchestrationIds.For(claimed.InstanceId));

        Assert.Equal("goal: order.placed", done.ReadOutputAs<string>());
        Assert.Equal(InstanceStatus.Exited, (await RowAsync(WelcomeAnyHour)).Status);
        Assert.Equal(0, await QueuedAsync(ChannelNames.Sms));
    }

    [Fact]
    public void RunInput_OfRunsStartedBeforeItHadPendingNews_ReadsAsTheirInstance()
    {
        var instance = JourneyInterpreter.Begin(
            JourneyInterpreter.Entering(WelcomeAnyHour, Customer, DateTimeOffset.UnixEpoch, null, 1), DateTimeOffset.UnixEpoch, CustomerContexts.For(null, TimeZoneInfo.Utc)).Instance;

        var bare = JourneyOrchestration.ReadRun(JourneyOrchestration.Write(instance));
        var run = JourneyOrchestration.ReadRun(JourneyOrchestration.Write(new JourneyRun(instance)));

        Assert.Equal(instance.InstanceId, bare.Instance.InstanceId);
        Assert.Null(bare.Pending);
        Assert.Equal(JourneyOrchestration.Write(bare), JourneyOrchestration.Write(run));
    }

    private async Task<JourneyInstance> RowAsync(JourneyDefinition journey) =>
        (await _app.Services.GetRequiredService<IJourneyInstanceStore>().GetAsync(Customer, journey.Id, CancellationToken.None))!.Value;

    /// <summary>What the starter does before it hands the instance over: the first decision saved in the row.</summary>
    private async Task<JourneyInstance> ClaimAsync(JourneyDefinition journey)
    {
        var now = DateTimeOffset.UtcNow;
        var first = JourneyInterpreter.Begin(JourneyInterpreter.Entering(journey, Customer, now, null, 1), now, CustomerContexts.For(null, TimeZoneInfo.Utc)).Instance;
        Assert.NotNull(await _app.Services.GetRequiredService<IJourneyInstanceStore>().TrySaveAsync(first, null, CancellationToken.None));
        return first;
    }

    /// <summary>The welcome with its day-2 SMS informational, so the quiet hours of whatever hour day 2 falls at do not move it.</summary>
    private static readonly JourneyDefinition WelcomeAnyHour = JourneyCatalog.Welcome with
    {
        Id = "welcome-any-hour",
        Steps = [.. JourneyCatalog.Welcome.Steps.Take(2), ((SendStep)JourneyCatalog.Welcome.Steps[2]) with { Class = MessageClass.Informational }],
    };
}
