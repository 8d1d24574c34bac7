using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Results;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// The results ledger on Azurite: a fact counts once however often it is recorded (before or after a fold), reads
/// are exact whether facts are folded or not, and a status change interrupted before its count is counted once by
/// the redelivery.
/// </summary>
public class ResultsLedgerTests
{
    private static readonly DateOnly Day = new(2026, 11, 24);
    private static readonly CustomerKey Customer = new("shopify", "7001");

    private static TableResultsLedger Ledger(Pipeline p) => new(p.Clients.Tables, p.Names);

    private static ResultFact Fact(string measure, string about, decimal amount = 0, string? currency = null, int? step = 0) =>
        new(ResultFact.IdFor(measure, about), "welcome", measure, Pipeline.Morning) { Step = step, Channel = "email", Amount = amount, Currency = currency };

    private static long Count(ResultCounters counters, string measure) => counters.Total(k => k.Measure == measure).Count;

    [Fact]
    public async Task Record_SameFactAgainBeforeAndAfterFold_CountsOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);

        var first = await ledger.RecordAsync(Fact(Measures.Sent, "d1"), Day, CancellationToken.None);
        var copy = await ledger.RecordAsync(Fact(Measures.Sent, "d1"), Day, CancellationToken.None);
        var pendingRead = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);
        var folded = await ledger.FoldAsync("welcome", CancellationToken.None);
        var lateCopy = await ledger.RecordAsync(Fact(Measures.Sent, "d1"), Day, CancellationToken.None);
        var foldedRead = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);

        Assert.Equal((true, false, false), (first, copy, lateCopy));
        Assert.Equal(1, folded);
        Assert.Equal(1, Count(pendingRead, Measures.Sent));
        Assert.Equal(1, Count(foldedRead, Measures.Sent));
        Assert.Equal(0, await ledger.FoldAsync("welcome", CancellationToken.None));
    }

    [Fact]
    public async Task Read_MixOfFoldedAndPendingFacts_IsExactPerDayAndCurrency()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);
        for (var i = 0; i < 150; i++)
        {
            await ledger.RecordAsync(Fact(Measures.Delivered, $"d{i}"), Day, CancellationToken.None);
        }

        await ledger.RecordAsync(Fact(Measures.Converted, "i1", 30_000, "KRW"), Day, CancellationToken.None);
        await ledger.RecordAsync(Fact(Measures.Converted, "i2", 12.5m, "USD"), Day, CancellationToken.None);
        Assert.Equal(152, await ledger.FoldAsync("welcome", CancellationToken.None));
        await ledger.RecordAsync(Fact(Measures.Converted, "i3", 20_000, "KRW"), Day.AddDays(1), CancellationToken.None);
        await ledger.RecordAsync(Fact(Measures.Delivered, "d-late"), Day.AddDays(-1), CancellationToken.None);

        var onDay = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);
        var all = await ledger.ReadAsync("welcome", Day.AddDays(-1), Day.AddDays(1), CancellationToken.None);

        Assert.Equal(150, Count(onDay, Measures.Delivered));
        Assert.Equal(151, Count(all, Measures.Delivered));
        var krw = all.Total(k => k.Measure == Measures.Converted && k.Currency == "KRW");
        var usd = all.Total(k => k.Measure == Measures.Converted && k.Currency == "USD");
        Assert.Equal((2L, 50_000m, 30_000m * 30_000 + 20_000m * 20_000), (krw.Count, krw.Sum, krw.SumOfSquares));
        Assert.Equal((1L, 12.5m), (usd.Count, usd.Sum));
    }

    [Fact]
    public async Task Fold_ConcurrentFolds_FoldEachFactOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);
        await Task.WhenAll(Enumerable.Range(0, 200).Select(i => ledger.RecordAsync(Fact(Measures.Sent, $"c{i}"), Day, CancellationToken.None)));

        var folds = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ledger.FoldAsync("welcome", CancellationToken.None)));
        var rest = await ledger.FoldAsync("welcome", CancellationToken.None);
        var read = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);

        Assert.Equal(200, folds.Sum() + rest);
        Assert.Equal(200, Count(read, Measures.Sent));
    }

    /// <summary>Throws on the first N records, as a process that stops between a status write and its count would.</summary>
    private sealed class InterruptedLedger(IResultsLedger inner, int failures) : IResultsLedger
    {
        private int _left = failures;

        public Task<bool> RecordAsync(ResultFact fact, DateOnly day, CancellationToken cancellationToken) =>
            Interlocked.Decrement(ref _left) >= 0 ? throw new IOException("stopped before counting") : inner.RecordAsync(fact, day, cancellationToken);

        public Task<ResultCounters> ReadAsync(string journeyId, DateOnly from, DateOnly to, CancellationToken cancellationToken) => inner.ReadAsync(journeyId, from, to, cancellationToken);

        public Task<int> FoldAsync(string journeyId, CancellationToken cancellationToken) => inner.FoldAsync(journeyId, cancellationToken);
    }

    /// <summary>A channel worker counting into <paramref name="ledger"/>, for a signed-up customer 7001.</summary>
    private static async Task<DeliveryHandler> WorkerAsync(Pipeline p, IResultsLedger ledger)
    {
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        return new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, p.Queue, p.Settings, p.Clock, results: new ResultsRecorder(ledger, p.Settings, p.Clock), capLedger: p.CapLedger);
    }

    private static DeliveryMessage Message(string deliveryId) =>
        new("shopify", "7001", deliveryId, new DeliveryOrder("welcome", 0, ChannelNames.Email, "welcome-coupon", MessageClass.Ad, Pipeline.Morning));

    [Fact]
    public async Task Send_InterruptedBetweenStatusAndCount_RedeliveryCountsItOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);
        var interrupted = await WorkerAsync(p, new InterruptedLedger(ledger, 1));
        var worker = await WorkerAsync(p, ledger);

        await Assert.ThrowsAsync<IOException>(() => interrupted.HandleAsync(Message("d-crash"), CancellationToken.None));
        var afterCrash = Count(await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None), Measures.Sent);
        var redelivered = await worker.HandleAsync(Message("d-crash"), CancellationToken.None);
        await ledger.FoldAsync("welcome", CancellationToken.None);
        var again = await worker.HandleAsync(Message("d-crash"), CancellationToken.None);
        var read = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);

        Assert.Equal(DeliveryStatus.Sent, (await p.Deliveries.GetAsync(Customer, "d-crash", CancellationToken.None))!.Value.Status);
        Assert.Equal(0, afterCrash);
        Assert.Equal((DeliveryHandling.AlreadyDone, DeliveryHandling.AlreadyDone), (redelivered, again));
        Assert.Equal(1, Count(read, Measures.Sent));
        Assert.Equal(1, p.Sender.Calls);
    }

    [Fact]
    public async Task Send_CountedThenRedeliveredManyTimes_CountsOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);
        var worker = await WorkerAsync(p, ledger);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => worker.HandleAsync(Message("d-copies"), CancellationToken.None)));
        var read = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);

        Assert.Single(outcomes, DeliveryHandling.Sent);
        Assert.Equal(1, Count(read, Measures.Sent));
    }

    [Fact]
    public async Task Report_InterruptedBetweenStatusAndCount_RetriedReportCountsOnce()
    {
        var p = await Pipeline.CreateAsync();
        var ledger = Ledger(p);
        var worker = await WorkerAsync(p, ledger);
        await worker.HandleAsync(Message("d-report"), CancellationToken.None);
        var events = new TableDeliveryEvents(p.Clients.Tables, p.Names, p.Clock);
        var suppressions = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);
        var interrupted = new DeliveryReportHandler(p.Deliveries, events, p.Profiles, suppressions, p.Queue, new ResultsRecorder(new InterruptedLedger(ledger, 1), p.Settings, p.Clock));
        var reports = new DeliveryReportHandler(p.Deliveries, events, p.Profiles, suppressions, p.Queue, new ResultsRecorder(ledger, p.Settings, p.Clock));

        await Assert.ThrowsAsync<IOException>(() => interrupted.ApplyAsync("d-report", DeliveryReport.Delivered, null, CancellationToken.None));
        await reports.ApplyAsync("d-report", DeliveryReport.Delivered, null, CancellationToken.None);
        await reports.ApplyAsync("d-report", DeliveryReport.Delivered, null, CancellationToken.None);
        await reports.ApplyAsync("d-report", DeliveryReport.Opened, null, CancellationToken.None);
        await reports.ApplyAsync("d-report", DeliveryReport.Opened, null, CancellationToken.None);
        var read = await ledger.ReadAsync("welcome", Day, Day, CancellationToken.None);

        Assert.Equal(DeliveryStatus.Delivered, (await p.Deliveries.GetAsync(Customer, "d-report", CancellationToken.None))!.Value.Status);
        Assert.Equal((1L, 1L, 1L), (Count(read, Measures.Sent), Count(read, Measures.Delivered), Count(read, Measures.Opened)));
    }

    [Fact]
    public async Task Record_OneStatusChange_IsOneStorageOperation()
    {
        var requests = 0;
        var p = await Pipeline.CreateAsync(observer: new StorageObserver((_, _) => Interlocked.Increment(ref requests)));
        var ledger = Ledger(p);

        var before = requests;
        await ledger.RecordAsync(Fact(Measures.Sent, "ops-1"), Day, CancellationToken.None);
        var fresh = requests - before;
        before = requests;
        await ledger.RecordAsync(Fact(Measures.Sent, "ops-1"), Day, CancellationToken.None);
        var copy = requests - before;

        Assert.Equal((1, 1), (fresh, copy));
    }
}
