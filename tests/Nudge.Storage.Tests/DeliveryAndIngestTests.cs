using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;

namespace Nudge.Storage.Tests;

public class DeliveryAndIngestTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    private static async Task<(Pipeline P, DeliveryMessage Message)> QueuedCouponAsync(bool smsConsent = true, DateTimeOffset? now = null)
    {
        var p = await Pipeline.CreateAsync(now);
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001", smsConsent), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        return (p, Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Email)));
    }

    [Fact]
    public async Task DeliveryHandler_RedeliveredMessage_SendsOnce()
    {
        var (p, message) = await QueuedCouponAsync();

        var first = await p.DeliveryHandler.HandleAsync(message, CancellationToken.None);
        var sentAt = (await p.Deliveries.GetAsync(Customer, message.DeliveryId, CancellationToken.None))!.Value.SentAt;
        p.Time.Advance(TimeSpan.FromMinutes(3));
        var second = await p.DeliveryHandler.HandleAsync(message, CancellationToken.None);

        Assert.Equal((DeliveryHandling.Sent, DeliveryHandling.AlreadyDone), (first, second));
        Assert.Equal(1, p.Sender.Calls);
        var row = (await p.Deliveries.GetAsync(Customer, message.DeliveryId, CancellationToken.None))!.Value;
        Assert.Equal((DeliveryStatus.Sent, sentAt), (row.Status, row.SentAt));
    }

    [Fact]
    public async Task DeliveryHandler_OrderForACustomerErasedMeanwhile_SendsNothingAndWritesNoRow()
    {
        var (p, message) = await QueuedCouponAsync();
        Assert.True(await p.Profiles.DeleteAsync(Customer, CancellationToken.None));

        var outcome = await p.DeliveryHandler.HandleAsync(message, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Suppressed, outcome);
        Assert.Equal(0, p.Sender.Calls);
        Assert.Empty(await p.Deliveries.ListForCustomerAsync(Customer, CancellationToken.None));
    }

    [Fact]
    public async Task DeliveryHandler_ConcurrentRedeliveries_SendOnce()
    {
        var (p, message) = await QueuedCouponAsync();

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => p.DeliveryHandler.HandleAsync(message, CancellationToken.None)));

        Assert.Equal(1, outcomes.Count(o => o == DeliveryHandling.Sent));
        // Concurrent workers may each call the provider; the delivery id is the provider's idempotency key.
        Assert.InRange(p.Sender.Calls, 1, 5);
    }

    [Fact]
    public async Task DeliveryHandler_ConsentWithdrawnBeforeSend_SuppressesWithReason()
    {
        var p = await Pipeline.CreateAsync();
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.Runtime.FireDueTimersAsync();
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001", smsConsent: false, updatedAt: Pipeline.Morning.AddDays(1)), CancellationToken.None);
        var sms = Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Sms));

        var outcome = await p.DeliveryHandler.HandleAsync(sms, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Suppressed, outcome);
        var row = (await p.Deliveries.GetAsync(Customer, sms.DeliveryId, CancellationToken.None))!.Value;
        Assert.Equal((DeliveryStatus.Suppressed, "no sms marketing consent"), (row.Status, row.Reason));
        Assert.Equal(0, p.Sender.Calls);
    }

    [Fact]
    public async Task DeliveryHandler_SmsAdDueAtNight_DefersToMorningWithoutSending()
    {
        var lateEvening = new DateTimeOffset(2026, 11, 24, 20, 59, 0, TimeSpan.FromHours(9));
        var p = await Pipeline.CreateAsync(lateEvening);
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.Runtime.FireDueTimersAsync();
        var sms = Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Sms));
        p.Time.Advance(TimeSpan.FromMinutes(2)); // the queue delayed the message past 21:00

        var outcome = await p.DeliveryHandler.HandleAsync(sms, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Deferred, outcome);
        var row = (await p.Deliveries.GetAsync(Customer, sms.DeliveryId, CancellationToken.None))!.Value;
        Assert.Equal(DeliveryStatus.Queued, row.Status);
        Assert.Equal("quiet hours: deferred to 2026-11-27T08:00:00.0000000+09:00", row.Reason);
        Assert.Equal(0, p.Sender.Calls);
        Assert.Equal(2, await p.AllMessagesAsync("delivery-sms")); // the original (not yet deleted) and the deferred copy
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-sms"));
    }

    [Fact]
    public async Task DeliveryHandler_SendDecidedBeforeItsTime_WaitsForItWithoutWritingThenSends()
    {
        var p = await Pipeline.CreateAsync();
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        p.Time.Advance(TimeSpan.FromDays(2));
        await p.Runtime.FireDueTimersAsync();
        // The decision was made as of a minute from now, as after a durable timer that fired a moment early.
        var queued = Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Sms));
        var due = p.Time.GetUtcNow().AddMinutes(1);
        var sms = queued with { Order = queued.Order! with { ScheduledFor = due } };

        var early = await p.DeliveryHandler.HandleAsync(sms, CancellationToken.None);
        var callsWhileEarly = p.Sender.Calls;
        var rowWhileEarly = await p.Deliveries.GetAsync(Customer, sms.DeliveryId, CancellationToken.None);
        var (all, visible) = (await p.AllMessagesAsync("delivery-sms"), await p.VisibleMessagesAsync("delivery-sms"));
        p.Time.Advance(TimeSpan.FromMinutes(1));
        var onTime = await p.DeliveryHandler.HandleAsync(sms, CancellationToken.None);

        Assert.Equal((DeliveryHandling.Deferred, 0), (early, callsWhileEarly));
        Assert.Null(rowWhileEarly);
        Assert.Equal((2, 1), (all, visible)); // the original (not yet deleted) and the copy, hidden until the time
        Assert.Equal(DeliveryHandling.Sent, onTime);
        var row = (await p.Deliveries.GetAsync(Customer, sms.DeliveryId, CancellationToken.None))!.Value;
        Assert.True(row.SentAt >= due, $"sent at {row.SentAt:O}, due {due:O}");
    }

    [Fact]
    public async Task EventStore_SameEventTwice_ReportsWhetherDispatchFinished()
    {
        var p = await Pipeline.CreateAsync();
        var evt = Pipeline.Signup("7001");

        var first = await p.Events.TryAddAsync(evt, CancellationToken.None);
        var concurrent = await p.Events.TryAddAsync(evt, CancellationToken.None);
        p.Time.Advance(TableEventStore.InFlightWindow + TimeSpan.FromSeconds(1));
        var afterCrash = await p.Events.TryAddAsync(evt, CancellationToken.None);
        await p.Events.MarkDispatchedAsync(evt.Customer, evt.EventId, CancellationToken.None);
        var afterDispatch = await p.Events.TryAddAsync(evt, CancellationToken.None);

        Assert.Equal(
            (EventAddResult.Added, EventAddResult.SeenInFlight, EventAddResult.SeenNotDispatched, EventAddResult.SeenAndDispatched),
            (first, concurrent, afterCrash, afterDispatch));
    }

    [Fact]
    public async Task IngestHandler_DuplicateDelivery_EnqueuesOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ingest = new IngestHandler(p.Events, new BlobRawPayloadStore(p.Clients.Blobs, p.Names), p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names));
        var body = "{\"id\":7001}"u8.ToArray();

        var first = await ingest.AcceptAsync(Pipeline.Signup("7001"), "d-1", body, CancellationToken.None);
        var second = await ingest.AcceptAsync(Pipeline.Signup("7001"), "d-1", body, CancellationToken.None);

        Assert.Equal((IngestOutcome.Accepted, IngestOutcome.Duplicate), (first, second));
        Assert.Equal(1, await p.VisibleMessagesAsync("journey-events"));
        var row = await p.Clients.Tables.GetTableClient(p.Names.Events).QueryAsync<Azure.Data.Tables.TableEntity>().SingleAsync();
        Assert.Equal(body, row.GetBinary("RawBody")); // kept with the event, one write for both
    }

    [Fact]
    public async Task IngestHandler_LargeBody_GoesToTheRawPayloadStoreUnderItsCustomer()
    {
        var p = await Pipeline.CreateAsync();
        var ingest = new IngestHandler(p.Events, new BlobRawPayloadStore(p.Clients.Blobs, p.Names), p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names));
        var body = new byte[IEventStore.InlineRawBodyLimit + 1];

        await ingest.AcceptAsync(Pipeline.Signup("7001"), "d-2", body, CancellationToken.None);

        var blob = p.Clients.Blobs.GetBlobContainerClient(p.Names.RawPayloads).GetBlobClient("shopify/demo.myshopify.com/7001/d-2.json");
        Assert.Equal(body.Length, (await blob.DownloadContentAsync()).Value.Content.ToArray().Length);
    }

    [Fact]
    public async Task IngestHandler_ConcurrentDeliveriesOfOneEvent_EnqueueOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ingest = new IngestHandler(p.Events, new BlobRawPayloadStore(p.Clients.Blobs, p.Names), p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names));

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => ingest.AcceptAsync(Pipeline.Signup("7001"), "d-1", "{}"u8.ToArray(), CancellationToken.None)));

        Assert.Equal(1, outcomes.Count(o => o == IngestOutcome.Accepted));
        Assert.Equal(1, await p.VisibleMessagesAsync("journey-events"));
    }

    [Fact]
    public async Task DispatchSweep_EventAcceptedButNeverDispatched_IsDispatched()
    {
        var p = await Pipeline.CreateAsync();
        await p.Events.TryAddAsync(Pipeline.Signup("7001"), CancellationToken.None); // ingest stopped here
        var sweep = new DispatchSweepHandler(p.Events, p.Queue, p.Clock);

        var early = await sweep.SweepAsync(CancellationToken.None);
        p.Time.Advance(DispatchSweepHandler.Grace + TimeSpan.FromSeconds(1));
        var late = await sweep.SweepAsync(CancellationToken.None);
        var again = await sweep.SweepAsync(CancellationToken.None);

        Assert.Equal((0, 1, 0), (early, late, again));
        Assert.Equal(1, await p.VisibleMessagesAsync("journey-events"));
    }

    [Fact]
    public async Task ProfileUpdater_OlderContactUpdateArrivesLate_KeepsNewerData()
    {
        var p = await Pipeline.CreateAsync();
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001", updatedAt: Pipeline.Morning.AddHours(2), email: "new@example.com"), CancellationToken.None);

        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001", updatedAt: Pipeline.Morning, email: "old@example.com"), CancellationToken.None);

        Assert.Equal("new@example.com", profile.Email);
        Assert.Equal("new@example.com", (await p.Profiles.GetAsync(Customer, CancellationToken.None))!.Value.Email);
    }

    [Fact]
    public async Task ClockAnchorStore_RestartAtSameSpeed_ContinuesVirtualTime()
    {
        var p = await Pipeline.CreateAsync();
        var store = new ClockAnchorStore(p.Clients.Tables, p.Names);
        var start = DateTimeOffset.Parse("2026-11-24T00:00:00Z");

        var first = await store.ContinueAsync(start, 8640, CancellationToken.None);
        var restarted = await store.ContinueAsync(start.AddSeconds(10), 8640, CancellationToken.None);
        var slower = await store.ContinueAsync(start.AddSeconds(20), 1, CancellationToken.None);

        Assert.Equal(first, restarted);
        Assert.Equal(start.AddDays(2), new VirtualClock(TimeProvider.System, restarted).Anchor.VirtualAt(start.AddSeconds(20)));
        Assert.Equal(start.AddDays(2), slower.VirtualAtAnchor); // a speed change keeps virtual time continuous
    }

    [Fact]
    public async Task RateLimitStore_WorkersRacingForOneBucket_EachGetsSlotsOfItsOwn()
    {
        var p = await Pipeline.CreateAsync();
        var store = new TableRateLimitStore(p.Clients.Tables, p.Names);
        var interval = TimeSpan.FromSeconds(2);
        var now = DateTimeOffset.Parse("2026-11-24T00:00:00Z");

        // Twelve workers read the same next free slot; all but one lose each write and must read and decide again.
        var reservations = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            store.ReserveAsync("sms-racing", interval, 2, now, TimeSpan.FromHours(1), CancellationToken.None)));

        Assert.All(reservations, r => Assert.True(r.Granted));
        var slots = reservations.SelectMany(r => Enumerable.Range(0, r.Count).Select(i => r.FirstSlot + i * interval)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 24).Select(i => now + i * interval), slots);
    }
}

public class StorageWorkQueueTests
{
    [Theory]
    [InlineData(0, 0)]
    [InlineData(-5, 0)]
    [InlineData(0.2, 1)]
    [InlineData(1.73, 2)]
    [InlineData(60, 60)]
    public void VisibilityDelay_RoundsUpToWholeSeconds_SoATimerIsNeverVisibleEarly(double seconds, double expected)
    {
        Assert.Equal(TimeSpan.FromSeconds(expected), StorageWorkQueue.VisibilityDelay(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void VisibilityDelay_BeyondSevenDays_IsCappedForChaining()
    {
        Assert.Equal(StorageWorkQueue.MaxVisibilityDelay, StorageWorkQueue.VisibilityDelay(TimeSpan.FromDays(30)));
    }
}
