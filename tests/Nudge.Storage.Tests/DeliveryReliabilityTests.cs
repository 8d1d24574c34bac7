using System.Collections.Concurrent;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

/// <summary>The delivery worker on Azurite with a scripted provider: retries, dead letters, suppression, crash recovery.</summary>
public class DeliveryReliabilityTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    /// <summary>A provider that remembers what it accepted by delivery id (its idempotency key) and answers from a script.</summary>
    private sealed class ScriptedProvider(bool dedupes = true) : IChannelSender
    {
        public ConcurrentQueue<Func<OutboundMessage, SendOutcome>> Script { get; } = new();
        public ConcurrentDictionary<string, int> Accepted { get; } = new();
        public int Calls;
        public bool CrashAfterAccepting;

        public Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            if (message.Resumed && !dedupes)
            {
                return Task.FromResult(new SendOutcome(false, null, "interrupted; this provider cannot dedupe") { Unconfirmed = true });
            }

            var outcome = Script.TryDequeue(out var next) ? next(message) : new SendOutcome(true, $"p-{message.DeliveryId}", null) { Kind = "email", Provider = "stub" };
            if (outcome.Sent)
            {
                Accepted.AddOrUpdate(message.DeliveryId, 1, (_, n) => dedupes ? n : n + 1);
            }

            if (CrashAfterAccepting)
            {
                CrashAfterAccepting = false;
                throw new OperationCanceledException("the worker stopped after the provider accepted");
            }

            return Task.FromResult(outcome);
        }
    }

    private static async Task<(Pipeline P, DeliveryHandler Handler, DeliveryMessage Message, TableSuppressionList Suppressions, StorageDeadLetters Dead)> SetUpAsync(ScriptedProvider provider)
    {
        var p = await Pipeline.CreateAsync();
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        var message = Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Email));
        var suppressions = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);
        var dead = new StorageDeadLetters(p.Clients.Queues, p.Names);
        var handler = new DeliveryHandler(p.Deliveries, p.Profiles, provider, p.Queue, p.Settings, p.Clock, suppressions, dead,
            new DeliveryRetryPolicy(3, TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(5)), capLedger: p.CapLedger);
        return (p, handler, message, suppressions, dead);
    }

    private static async Task<DeliveryRecord> RowAsync(Pipeline p, DeliveryMessage message) =>
        (await p.Deliveries.GetAsync(Customer, message.DeliveryId, CancellationToken.None))!.Value;

    [Fact]
    public async Task Handle_CrashAfterProviderAccepted_IdempotentProviderGetsSameKeyAndSendsOnce()
    {
        var provider = new ScriptedProvider(dedupes: true) { CrashAfterAccepting = true };
        var (p, handler, message, _, _) = await SetUpAsync(provider);

        await Assert.ThrowsAsync<OperationCanceledException>(() => handler.HandleAsync(message, CancellationToken.None));
        var interrupted = await RowAsync(p, message);
        var whileClaimed = await handler.HandleAsync(message, CancellationToken.None);
        p.Time.Advance(DeliveryRetryPolicy.Default.ClaimLease + TimeSpan.FromSeconds(1));
        var resumed = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal(DeliveryStatus.Sending, interrupted.Status);
        Assert.Equal((DeliveryHandling.InProgress, DeliveryHandling.Sent), (whileClaimed, resumed));
        Assert.Equal(2, provider.Calls);
        Assert.Equal(1, provider.Accepted[message.DeliveryId]); // one message reached the customer
        Assert.Equal((DeliveryStatus.Sent, 2), ((await RowAsync(p, message)).Status, (await RowAsync(p, message)).Attempts));
    }

    [Fact]
    public async Task Handle_CrashAfterProviderAccepted_ProviderWithoutDedupeIsNotCalledAgain()
    {
        var provider = new ScriptedProvider(dedupes: false) { CrashAfterAccepting = true };
        var (p, handler, message, _, _) = await SetUpAsync(provider);

        await Assert.ThrowsAsync<OperationCanceledException>(() => handler.HandleAsync(message, CancellationToken.None));
        p.Time.Advance(DeliveryRetryPolicy.Default.ClaimLease + TimeSpan.FromSeconds(1));
        var resumed = await handler.HandleAsync(message, CancellationToken.None);
        var again = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal((DeliveryHandling.Unconfirmed, DeliveryHandling.AlreadyDone), (resumed, again));
        Assert.Equal(1, provider.Accepted[message.DeliveryId]);
        Assert.Equal(DeliveryStatus.Unconfirmed, (await RowAsync(p, message)).Status);
    }

    [Fact]
    public async Task Handle_TransientFailures_RetryWithBackoffThenDeadLetter()
    {
        var provider = new ScriptedProvider();
        for (var i = 0; i < 3; i++)
        {
            provider.Script.Enqueue(_ => SendOutcome.Failed("503 Service Unavailable"));
        }

        var (p, handler, message, _, dead) = await SetUpAsync(provider);

        var first = await handler.HandleAsync(message, CancellationToken.None);
        var afterFirst = await RowAsync(p, message);
        var second = await handler.HandleAsync(message, CancellationToken.None);
        var third = await handler.HandleAsync(message, CancellationToken.None);
        var afterLast = await RowAsync(p, message);

        Assert.Equal((DeliveryHandling.Retrying, DeliveryHandling.Retrying, DeliveryHandling.Failed), (first, second, third));
        Assert.Equal((DeliveryStatus.Queued, 1), (afterFirst.Status, afterFirst.Attempts));
        Assert.StartsWith("attempt 1 failed, retrying: 503", afterFirst.Reason);
        Assert.Equal(DeliveryStatus.Failed, afterLast.Status);
        Assert.StartsWith("gave up after 3 attempts", afterLast.Reason);
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-email")); // the original only: the retries wait out their backoff
        var letters = new List<DeliveryMessage>();
        await dead.ReplayAsync(ChannelNames.Email, 10, (letter, _) => { letters.Add(letter); return Task.CompletedTask; }, CancellationToken.None);
        Assert.Equal(message, Assert.Single(letters));
    }

    [Fact]
    public async Task Handle_FailureThatMayHaveSent_RecordsTheProviderAndTheRetryIsPinnedToIt()
    {
        var provider = new ScriptedProvider();
        provider.Script.Enqueue(_ => SendOutcome.Failed("solapi: answered 504") with { Provider = "solapi", MaybeSentVia = "solapi" });
        string? retriedVia = null;
        provider.Script.Enqueue(m =>
        {
            retriedVia = m.MaybeSentVia;
            return new SendOutcome(false, null, "may have been sent through solapi, which cannot dedupe") { Unconfirmed = true };
        });
        var (p, handler, message, _, _) = await SetUpAsync(provider);

        var first = await handler.HandleAsync(message, CancellationToken.None);
        var afterFirst = await RowAsync(p, message);
        var second = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal((DeliveryHandling.Retrying, DeliveryHandling.Unconfirmed), (first, second));
        Assert.Equal("solapi", afterFirst.MaybeSentVia);
        Assert.Equal("solapi", retriedVia);
        Assert.Equal(DeliveryStatus.Unconfirmed, (await RowAsync(p, message)).Status);
    }

    [Fact]
    public void RetryPolicy_DelayGrowsExponentiallyUpToTheCap()
    {
        var policy = new DeliveryRetryPolicy(5, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(100));

        var delays = Enumerable.Range(1, 6).Select(a => policy.DelayAfter(a, "abc").TotalSeconds).ToArray();

        Assert.InRange(delays[0], 7.5, 12.5);
        Assert.InRange(delays[1], 15, 25);
        Assert.InRange(delays[2], 30, 50);
        Assert.Equal(100, delays[5]);
    }

    [Fact]
    public async Task Handle_InvalidRecipient_FailsAndSuppressesTheAddressForLaterSends()
    {
        var provider = new ScriptedProvider();
        provider.Script.Enqueue(_ => new SendOutcome(false, null, "hard bounce: mailbox does not exist") { Permanent = true, InvalidRecipient = true });
        var (p, handler, message, suppressions, _) = await SetUpAsync(provider);

        var outcome = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Failed, outcome);
        Assert.Equal(DeliveryStatus.Failed, (await RowAsync(p, message)).Status);
        Assert.NotNull(await suppressions.FindAsync(SuppressionMedia.Email, " A@Example.com ", CancellationToken.None));

        // A later delivery to the same address is suppressed without a provider call.
        var later = new DeliveryRecord
        {
            DeliveryId = "later-1", Customer = Customer, JourneyId = "welcome", StepIndex = 9, Channel = ChannelNames.Email,
            Template = "welcome-coupon", Class = MessageClass.Ad, Status = DeliveryStatus.Queued, ScheduledFor = p.Clock.GetUtcNow(),
        };
        await p.Deliveries.AddQueuedAsync(later, CancellationToken.None);
        var laterOutcome = await handler.HandleAsync(new DeliveryMessage("shopify", "7001", "later-1"), CancellationToken.None);

        Assert.Equal(DeliveryHandling.Suppressed, laterOutcome);
        Assert.StartsWith("address suppressed: invalid recipient", (await p.Deliveries.GetAsync(Customer, "later-1", CancellationToken.None))!.Value.Reason);
        Assert.Equal(1, provider.Calls);
    }

    [Fact]
    public async Task Handle_RateLimited_DefersWithoutCountingAnAttempt()
    {
        var provider = new ScriptedProvider();
        var (p, handler, message, _, _) = await SetUpAsync(provider);
        var slot = p.Clock.GetUtcNow().AddMinutes(3);
        provider.Script.Enqueue(_ => SendOutcome.Later(slot, "rate limit: next slot"));

        var outcome = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Deferred, outcome);
        var row = await RowAsync(p, message);
        Assert.Equal((DeliveryStatus.Queued, 0, "rate limit: next slot"), (row.Status, row.Attempts, row.Reason));
        Assert.Equal(1, await p.VisibleMessagesAsync("delivery-email")); // the original only: the deferred copy waits
    }
}
