using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Results;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// The frequency caps' last line in the channel worker: journeys that decided at the same moment, each without seeing
/// the other's send, cannot together exceed a cap; transactional messages and shops without caps never meet the ledger.
/// </summary>
public class FrequencyCapGuardTests
{
    private static readonly DateOnly Day = DateOnly.FromDateTime(Pipeline.Morning.DateTime);

    private static readonly CrossJourneyRules OneEmailADay = new() { Caps = new Dictionary<string, FrequencyCap> { [ChannelNames.Email] = new(1, null) } };

    private static DeliveryMessage Message(string customerId, string journeyId, MessageClass messageClass = MessageClass.Ad) =>
        new("shopify", customerId, $"{journeyId}-{customerId}", new DeliveryOrder(journeyId, 0, ChannelNames.Email, "welcome-coupon", messageClass, Pipeline.Morning));

    private static async Task<DeliveryRecord> RowAsync(Pipeline p, DeliveryMessage message) =>
        (await p.Deliveries.GetAsync(message.Customer, message.DeliveryId, CancellationToken.None))!.Value;

    private static async Task SignUpAsync(Pipeline p, string customerId) =>
        await p.ProfileUpdater.ApplyAsync(Pipeline.Signup(customerId), CancellationToken.None);

    [Fact]
    public async Task TwoJourneysEmailsHandledAtOnceUnderOneADay_OneIsSent_TheOtherSuppressedByTheCap_RedeliveryChangesNothing()
    {
        var p = await Pipeline.CreateAsync(rules: OneEmailADay);
        var ledger = new TableResultsLedger(p.Clients.Tables, p.Names);
        var worker = new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, p.Queue, p.Settings, p.Clock,
            results: new ResultsRecorder(ledger, p.Settings, p.Clock), capLedger: p.CapLedger);

        for (var round = 0; round < 4; round++)
        {
            var customerId = $"cap-{round}";
            await SignUpAsync(p, customerId);
            DeliveryMessage[] messages = [Message(customerId, "flash-offer"), Message(customerId, "price-drop")];
            var sentBefore = p.Sender.Calls;

            var outcomes = await Task.WhenAll(messages.Select(m => worker.HandleAsync(m, CancellationToken.None)));

            Assert.Equal([DeliveryHandling.Sent, DeliveryHandling.Suppressed], outcomes.Order());
            Assert.Equal(sentBefore + 1, p.Sender.Calls);
            var sent = messages[Array.IndexOf(outcomes, DeliveryHandling.Sent)];
            var capped = messages[Array.IndexOf(outcomes, DeliveryHandling.Suppressed)];
            var cappedRow = await RowAsync(p, capped);
            Assert.Equal((DeliveryStatus.Suppressed, "frequency cap: 1 email a day reached by another journey's send"), (cappedRow.Status, cappedRow.Reason));

            var again = await Task.WhenAll(worker.HandleAsync(sent, CancellationToken.None), worker.HandleAsync(capped, CancellationToken.None));

            Assert.Equal([DeliveryHandling.AlreadyDone, DeliveryHandling.AlreadyDone], again);
            Assert.Equal(sentBefore + 1, p.Sender.Calls);
            Assert.Equal((DeliveryStatus.Sent, DeliveryStatus.Suppressed), ((await RowAsync(p, sent)).Status, (await RowAsync(p, capped)).Status));
        }

        var counters = await ledger.ReadAsync("flash-offer", Day, Day, CancellationToken.None);
        var others = await ledger.ReadAsync("price-drop", Day, Day, CancellationToken.None);
        long Count(string measure, string? reason = null) =>
            counters.Total(k => k.Measure == measure && (reason is null || k.Reason == reason)).Count + others.Total(k => k.Measure == measure && (reason is null || k.Reason == reason)).Count;
        Assert.Equal((4, 4), (Count(Measures.Sent), Count(Measures.Suppressed, "frequency cap")));
    }

    [Fact]
    public async Task TransactionalEmailAfterTheCapIsReached_IsSent_WithoutAskingTheLedger()
    {
        var p = await Pipeline.CreateAsync(rules: OneEmailADay);
        var capLedger = new InMemoryFrequencyCapLedger();
        var worker = new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, p.Queue, p.Settings, p.Clock, capLedger: capLedger);
        await SignUpAsync(p, "7001");

        var ad = await worker.HandleAsync(Message("7001", "flash-offer"), CancellationToken.None);
        var secondAd = await worker.HandleAsync(Message("7001", "price-drop"), CancellationToken.None);
        var receipt = await worker.HandleAsync(Message("7001", "order-receipt", MessageClass.Transactional), CancellationToken.None);

        Assert.Equal((DeliveryHandling.Sent, DeliveryHandling.Suppressed, DeliveryHandling.Sent), (ad, secondAd, receipt));
        Assert.Equal(2, capLedger.Reservations);
    }

    [Fact]
    public async Task NoCapsConfigured_AdsAreSent_AndTheLedgerIsNeverAsked()
    {
        var p = await Pipeline.CreateAsync();
        var capLedger = new InMemoryFrequencyCapLedger();
        var worker = new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, p.Queue, p.Settings, p.Clock, capLedger: capLedger);
        await SignUpAsync(p, "7001");

        var outcomes = await Task.WhenAll(worker.HandleAsync(Message("7001", "flash-offer"), CancellationToken.None), worker.HandleAsync(Message("7001", "price-drop"), CancellationToken.None));

        Assert.Equal([DeliveryHandling.Sent, DeliveryHandling.Sent], outcomes);
        Assert.Equal(0, capLedger.Reservations);
    }
}
