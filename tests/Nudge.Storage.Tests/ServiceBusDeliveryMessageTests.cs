using System.Text.Json;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Nudge.Core;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.ServiceBus;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// What the Service Bus adapter sends, checked without a broker (there is no emulator here): the body the Storage
/// queues carry too, the delivery id as the message id of a first send (the key of the namespace's duplicate
/// detection), a send again named by its due time and scheduled for the real time it falls at. What the namespace
/// then does with them (holding, deduplicating, dead-lettering) is not verified here (README).
/// </summary>
public sealed class ServiceBusDeliveryMessageTests
{
    private static readonly DateTimeOffset Night = new(2026, 11, 24, 23, 0, 0, TimeSpan.FromHours(9));

    /// <summary>A client for a namespace that is never reached: building a message connects nowhere.</summary>
    private static ServiceBusDeliveryQueue Adapter(VirtualClock clock) =>
        new(new ServiceBusClient("nudge-test.servicebus.windows.net", new DefaultAzureCredential()), clock);

    private static VirtualClock ClockAt(DateTimeOffset now, double speed = 1) => new(TimeProvider.System, new ClockAnchor(now, now, speed));

    private static DeliveryMessage Message(MessageClass messageClass = MessageClass.Ad, string channel = ChannelNames.Sms, string customerId = "7101") =>
        new("shopify", customerId, "welcome-7101-2-1", new DeliveryOrder("welcome", 2, channel, "welcome-day2", messageClass, Night),
            TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    [Fact]
    public void MessageFor_FirstSend_CarriesTheDeliveryIdAndTheStorageQueueBody()
    {
        var message = Message();

        var sent = Adapter(ClockAt(Night)).MessageFor(ChannelNames.Sms, message, notBefore: null);
        var received = ServiceBusModelFactory.ServiceBusReceivedMessage(body: sent.Body, messageId: sent.MessageId, contentType: sent.ContentType, subject: sent.Subject, deliveryCount: 1);

        Assert.Equal(message.DeliveryId, sent.MessageId);
        Assert.Equal(("application/json", ChannelNames.Sms), (sent.ContentType, sent.Subject));
        Assert.Equal(default, sent.ScheduledEnqueueTime);
        Assert.Equal(JsonSerializer.Serialize(message, NudgeJson.Options), sent.Body.ToString());
        Assert.Equal(message, DeliveryMessage.TryParse(received.Body.ToMemory().Span));
    }

    [Fact]
    public async Task MessageFor_QuietHoursDeferral_IsScheduledForEightInTheMorningAndNamedByIt()
    {
        // The real handler, at 23:00 in Seoul, with an ad SMS for a customer without night consent.
        var p = await Pipeline.CreateAsync(now: Night);
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7101"), CancellationToken.None);
        var transport = new InMemoryDeliveryTransport(p.Clock);
        var handler = new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, transport, p.Settings, p.Clock, capLedger: p.CapLedger);
        var message = Message();

        var outcome = await handler.HandleAsync(message, CancellationToken.None);
        var deferred = Assert.Single(transport.Queued(ChannelNames.Sms));
        var sent = Adapter(p.Clock).MessageFor(ChannelNames.Sms, deferred.Message, deferred.NotBefore);

        var morning = new DateTimeOffset(2026, 11, 25, 8, 0, 0, TimeSpan.FromHours(9));
        Assert.Equal(DeliveryHandling.Deferred, outcome);
        Assert.Equal(morning, deferred.NotBefore);
        Assert.Equal(morning, sent.ScheduledEnqueueTime);
        Assert.Equal($"{message.DeliveryId}@{morning.UtcTicks}", sent.MessageId);
        Assert.Equal(0, p.Sender.Calls);
    }

    [Fact]
    public void ScheduleFor_VirtualDueTime_IsTheRealTimeItFallsAt()
    {
        var now = DateTimeOffset.UtcNow;
        var clock = ClockAt(now, speed: 60); // a virtual hour is a real minute

        var real = ServiceBusDeliveryQueue.ScheduleFor(clock, clock.Anchor.VirtualAt(now) + TimeSpan.FromHours(1));

        Assert.Equal(now + TimeSpan.FromMinutes(1), real);
    }

    [Fact]
    public void MessageFor_DueAlready_IsSentAtOnceYetNamedAsASendAgain()
    {
        var clock = ClockAt(Night);
        var message = Message();
        var past = clock.GetUtcNow() - TimeSpan.FromMinutes(5);

        var sent = Adapter(clock).MessageFor(ChannelNames.Sms, message, past);

        Assert.Null(ServiceBusDeliveryQueue.ScheduleFor(clock, null));
        Assert.Equal(default, sent.ScheduledEnqueueTime);
        Assert.Equal($"{message.DeliveryId}@{past.UtcTicks}", sent.MessageId);
    }

    [Fact]
    public void MessageFor_NoTraceParent_CarriesTheCurrentTrace()
    {
        using var source = new System.Diagnostics.ActivitySource("test");
        using var listener = new System.Diagnostics.ActivityListener
        {
            // The pipeline's source listened to as well: without a listener there is no trace to carry.
            ShouldListenTo = s => s.Name is "test" or PipelineTracing.ActivitySourceName,
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllData,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var activity = source.StartActivity("send");

        var sent = Adapter(ClockAt(Night)).MessageFor(ChannelNames.Email, Message() with { TraceParent = null }, null);

        Assert.Equal(activity!.Id, DeliveryMessage.TryParse(sent.Body.ToMemory().Span)!.TraceParent);
    }
}
