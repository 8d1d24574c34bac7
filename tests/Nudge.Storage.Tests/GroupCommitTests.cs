using System.Text.Json;
using Azure.Data.Tables;
using Nudge.Core;
using Nudge.Core.Events;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

/// <summary>
/// Group-commit intake and its asynchronous batch processing on Azurite: acknowledged only once durable, every
/// duplicate taken once, and each crash point leaves the work to a redelivery that neither loses nor repeats an event.
/// </summary>
public class GroupCommitTests
{
    private static GroupCommit Intake(Pipeline p) =>
        new(p.Queue, new IngestHandler(p.Events, new BlobRawPayloadStore(p.Clients.Blobs, p.Names), p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names)), p.Clock);

    private static byte[] Body(string customerId) => JsonSerializer.SerializeToUtf8Bytes(new { id = customerId });

    /// <summary>The texts of every message on the queue, taken off it as its trigger would.</summary>
    private static async Task<List<string>> TakeAllAsync(Pipeline p, string queueName)
    {
        var queue = p.Clients.Queues.GetQueueClient(p.Names.Queue(queueName));
        var texts = new List<string>();
        for (var round = 0; round < 100; round++)
        {
            var messages = (await queue.ReceiveMessagesAsync(32, TimeSpan.FromMinutes(5))).Value;
            if (messages.Length == 0)
            {
                break;
            }

            texts.AddRange(messages.Select(m => m.Body.ToString()));
        }

        return texts;
    }

    /// <summary>Every intake batch written so far.</summary>
    private static async Task<List<IngestBatchMessage>> TakeBatchesAsync(Pipeline p) =>
        (await TakeAllAsync(p, StorageNames.IngestBatchesQueue)).ConvertAll(text => JsonSerializer.Deserialize<IngestBatchMessage>(text, NudgeJson.Options)!);

    /// <summary>The event ids handed to the journeys, one per reference, from either message shape.</summary>
    private static async Task<List<string>> DispatchedAsync(Pipeline p) =>
        (await TakeAllAsync(p, StorageNames.JourneyEventsQueue)).SelectMany(text => text.Contains("\"events\"", StringComparison.Ordinal)
            ? JsonSerializer.Deserialize<JourneyEventsMessage>(text, NudgeJson.Options)!.Events.Select(e => e.EventId)
            : [JsonSerializer.Deserialize<JourneyEventMessage>(text, NudgeJson.Options)!.EventId]).ToList();

    private static IngestBatchMessage Batch(string batchId, params CustomerEvent[] events) =>
        JsonSerializer.Deserialize<IngestBatchMessage>(
            IngestBatchMessage.Compose(batchId, events.Select(e => JsonSerializer.Serialize(new IntakeEntry(e.EventId, e, Body(e.Customer.CustomerId)), NudgeJson.Options)).ToList())!,
            NudgeJson.Options)!;

    [Fact]
    public async Task GroupCommit_ConcurrentDeliveriesWithRedeliveries_EachStoredOnceBeforeItsAcknowledgement()
    {
        var p = await Pipeline.CreateAsync();
        var intake = Intake(p);
        var signups = Enumerable.Range(1, 30).Select(i => Pipeline.Signup($"{7000 + i}")).ToList();
        var deliveries = signups.Concat(signups.Take(10)).ToList(); // ten delivered twice, concurrently

        var outcomes = await Task.WhenAll(deliveries.Select(e => intake.AcceptAsync(e, e.EventId, Body(e.Customer.CustomerId), CancellationToken.None)));

        Assert.Equal((30, 10), (outcomes.Count(o => o == IngestOutcome.Accepted), outcomes.Count(o => o == IngestOutcome.Duplicate)));
        var stored = (await TakeBatchesAsync(p)).SelectMany(b => b.ReadEntries()).ToList();
        Assert.Equal(signups.Select(e => e.EventId).Order(), stored.Select(e => e.Event.EventId).Order());
        Assert.All(stored, e => Assert.Equal(Body(e.Event.Customer.CustomerId), e.RawBody));
    }

    [Fact]
    public async Task GroupCommit_IntakeWriteFails_NotAcknowledgedAndTheRetryIsStored()
    {
        var p = await Pipeline.CreateAsync();
        var intake = Intake(p);
        var queue = p.Clients.Queues.GetQueueClient(p.Names.Queue(StorageNames.IngestBatchesQueue));
        var signup = Pipeline.Signup("7001");
        await queue.DeleteAsync();

        await Assert.ThrowsAsync<IntakeUnavailableException>(() => intake.AcceptAsync(signup, "d-1", Body("7001"), CancellationToken.None));
        await queue.CreateAsync();
        var retry = await intake.AcceptAsync(signup, "d-1", Body("7001"), CancellationToken.None);

        Assert.Equal(IngestOutcome.Accepted, retry); // the failed write was forgotten: the retry is not taken for a duplicate
        Assert.Equal([signup.EventId], (await TakeBatchesAsync(p)).SelectMany(b => b.ReadEntries()).Select(e => e.Event.EventId));
    }

    [Fact]
    public async Task IngestBatchHandler_DuplicatesWithinAndAcrossBatches_DispatchedOnceWithRowsPerCustomer()
    {
        var p = await Pipeline.CreateAsync();
        var handler = new IngestBatchHandler(p.Events, p.Queue);
        var (a, b, c) = (Pipeline.Signup("7001"), Pipeline.Signup("7002"), Pipeline.Signup("7003"));

        var first = await handler.HandleAsync(Batch("batch-1", a, b, a), CancellationToken.None);
        var second = await handler.HandleAsync(Batch("batch-2", b, c), CancellationToken.None);

        Assert.Equal((new IngestBatchResult(3, 2), new IngestBatchResult(2, 1)), (first, second));
        Assert.Equal([a.EventId, b.EventId, c.EventId], (await DispatchedAsync(p)).Order());
        Assert.Equal(b, await p.Events.GetAsync(b.Customer, b.EventId, CancellationToken.None)); // the journeys' read, per customer
        var row = await p.Clients.Tables.GetTableClient(p.Names.Events).GetEntityAsync<TableEntity>(TableKey.For(c.Customer), TableKey.Escape(c.EventId));
        Assert.Equal(Body("7003"), row.Value.GetBinary("RawBody"));
    }

    [Fact]
    public async Task IngestBatchHandler_CrashAfterSomeRowsWereClaimed_RedeliveryDispatchesEveryEventOnce()
    {
        var p = await Pipeline.CreateAsync();
        var handler = new IngestBatchHandler(p.Events, p.Queue);
        var (a, b) = (Pipeline.Signup("7001"), Pipeline.Signup("7002"));
        var batch = Batch("batch-1", a, b);
        Assert.True(await p.Events.TryClaimAsync(a, Body("7001"), batch.BatchId, CancellationToken.None)); // the first attempt got this far

        var redelivered = await handler.HandleAsync(batch, CancellationToken.None);

        Assert.Equal(2, redelivered.Dispatched);
        Assert.Equal([a.EventId, b.EventId], (await DispatchedAsync(p)).Order());
    }

    [Fact]
    public async Task IngestBatchHandler_EventStoredByTheDirectPathFirst_IsNotDispatchedAgain()
    {
        var p = await Pipeline.CreateAsync();
        var direct = new IngestHandler(p.Events, new BlobRawPayloadStore(p.Clients.Blobs, p.Names), p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names));
        var (a, b) = (Pipeline.Signup("7001"), Pipeline.Signup("7002"));

        Assert.Equal(IngestOutcome.Accepted, await direct.AcceptAsync(a, "d-a", Body("7001"), CancellationToken.None)); // e.g. reconciliation filled it in
        await new IngestBatchHandler(p.Events, p.Queue).HandleAsync(Batch("batch-1", a, b), CancellationToken.None);
        var afterBatch = await direct.AcceptAsync(b, "d-b", Body("7002"), CancellationToken.None);

        Assert.Equal(IngestOutcome.Duplicate, afterBatch); // a claimed row is its batch's to dispatch
        Assert.Equal([a.EventId, b.EventId], (await DispatchedAsync(p)).Order());
    }

    /// <summary>Two signups an intake batch stored (and handed over), and the entry that takes several-event messages.</summary>
    private static async Task<(Pipeline P, CustomerEvent A, CustomerEvent B, JourneyEventsEntry Entry)> TwoSignupsStoredByABatchAsync()
    {
        var p = await Pipeline.CreateAsync();
        var (a, b) = (Pipeline.Signup("7001"), Pipeline.Signup("7002"));
        await new IngestBatchHandler(p.Events, p.Queue).HandleAsync(Batch("batch-1", a, b), CancellationToken.None);
        return (p, a, b, new JourneyEventsEntry(p.EventHandler));
    }

    [Fact]
    public async Task JourneyEventsEntry_SeveralEventsInOneMessage_EachHandledOnItsOwn()
    {
        var (p, a, b, entry) = await TwoSignupsStoredByABatchAsync();
        var missing = new JourneyEventMessage("shopify", "7003", "shopify-signup-7003");

        var outcome = await entry.HandleAsync(new JourneyEventsMessage([new("shopify", "7001", a.EventId), missing, new("shopify", "7002", b.EventId)]), p.Runtime, CancellationToken.None);

        Assert.Equal((2, 1), (outcome.Processed, outcome.Missing));
        Assert.NotNull(await p.Profiles.GetAsync(a.Customer, CancellationToken.None));
        Assert.NotNull(await p.Profiles.GetAsync(b.Customer, CancellationToken.None));
    }

    [Fact]
    public async Task JourneyEventsEntry_SameSeveralEventMessageRedelivered_EachCustomersCouponSentOnce()
    {
        var (p, a, b, entry) = await TwoSignupsStoredByABatchAsync();
        var message = new JourneyEventsMessage([new("shopify", "7001", a.EventId), new("shopify", "7002", b.EventId)]);

        await entry.HandleAsync(message, p.Runtime, CancellationToken.None);
        await entry.HandleAsync(message, p.Runtime, CancellationToken.None); // the queue redelivers it
        foreach (var text in await TakeAllAsync(p, "delivery-email"))
        {
            await p.DeliveryHandler.HandleAsync(JsonSerializer.Deserialize<DeliveryMessage>(text, NudgeJson.Options)!, CancellationToken.None);
        }

        Assert.Equal(2, p.Sender.Calls);
    }

    [Fact]
    public async Task CatalogHandler_PriceDropFanOut_HandsTheInterestedCustomersOverInIntakeWrites_ARedeliveryAddsNothing()
    {
        var p = await Pipeline.CreateAsync();
        var interests = new TableProductInterestIndex(p.Clients.Tables, p.Names);
        var customers = Enumerable.Range(1, 250).Select(i => new Core.Customers.CustomerKey("shopify", $"{8000 + i}")).ToList();
        await Task.WhenAll(customers.Select(c => interests.RememberAsync("demo.myshopify.com", "p-1", c, CancellationToken.None)));
        CatalogHandler Catalog() => new(new BlobRawPayloadStore(p.Clients.Blobs, p.Names), new TableCatalogStore(p.Clients.Tables, p.Names), p.Queue, interests, Intake(p));
        var drop = new PriceDropMessage("shopify", "demo.myshopify.com", "p-1", "v-1", 20000m, 15000m, Pipeline.Morning);

        var handedOver = await Catalog().FanOutAsync(drop, CancellationToken.None);
        var batches = await TakeBatchesAsync(p);
        var handler = new IngestBatchHandler(p.Events, p.Queue);
        foreach (var batch in batches)
        {
            await handler.HandleAsync(batch, CancellationToken.None);
        }

        await Catalog().FanOutAsync(drop, CancellationToken.None); // the price-drops message redelivered to a restarted process
        foreach (var batch in await TakeBatchesAsync(p))
        {
            await handler.HandleAsync(batch, CancellationToken.None);
        }

        Assert.Equal(250, handedOver);
        Assert.InRange(batches.Count, 3, 10); // a hundred to a write at most: not one storage write per customer
        var dispatched = await DispatchedAsync(p);
        Assert.Equal(250, dispatched.Count); // the redelivery's rows were taken before: none handed to the journeys again
        Assert.Equal(250, dispatched.Distinct().Count());
    }
}
