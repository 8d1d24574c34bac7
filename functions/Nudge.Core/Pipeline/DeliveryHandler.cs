using Nudge.Core.Compliance;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

public enum DeliveryHandling
{
    Sent,
    Suppressed,

    /// <summary>Not allowed at this hour, or the provider's rate limit is reached: queued again for later.</summary>
    Deferred,

    /// <summary>Already final, or another worker holds it: a redelivered queue message, sends nothing.</summary>
    AlreadyDone,

    /// <summary>No delivery row under that id.</summary>
    Unknown,

    /// <summary>A transient provider failure: queued again after a backoff.</summary>
    Retrying,

    /// <summary>Refused for good, or given up after the last attempt (dead-lettered for replay).</summary>
    Failed,

    /// <summary>Another worker is calling the provider for it right now: looked at again when its claim ends.</summary>
    InProgress,

    /// <summary>An interrupted attempt on a provider that cannot dedupe: not resent; a provider report settles it.</summary>
    Unconfirmed,
}

/// <summary>How often and how patiently a transient failure is retried before the delivery is dead-lettered.</summary>
public sealed record DeliveryRetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    /// <summary>How long a claiming worker is presumed alive: longer than any provider call with its polling.</summary>
    public TimeSpan ClaimLease { get; init; } = TimeSpan.FromMinutes(2);

    public static DeliveryRetryPolicy Default { get; } = new(5, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(30));

    /// <summary>Exponential backoff with a deterministic jitter (the delivery id seeds it, so retries spread out).</summary>
    public TimeSpan DelayAfter(int attempt, string deliveryId)
    {
        var exponential = BaseDelay.TotalSeconds * Math.Pow(2, Math.Max(0, attempt - 1));
        var jitter = 0.75 + (deliveryId.GetHashCode(StringComparison.Ordinal) & 0xFFFF) / (double)0xFFFF / 2;
        return TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, exponential * jitter));
    }
}

/// <summary>
/// The channel worker's logic. The deterministic delivery id is the idempotency key at every layer: the queue
/// message, the delivery row and the provider call. At send time it re-checks suppression, consent and quiet
/// hours (they may have changed while the message waited), claims the row (ETag) so one worker calls the
/// provider, sends, and records what happened. Before the claim, a marketing send on a capped channel takes a slot
/// in the <see cref="IFrequencyCapLedger"/>, so journeys deciding at once cannot together exceed a cap (the one that
/// loses is suppressed). A crash between the provider call and the log write leaves the row in "sending": the next
/// attempt resends under the same key only where the provider dedupes by it.
/// </summary>
public sealed class DeliveryHandler(
    IDeliveryLog deliveries,
    IProfileStore profiles,
    IChannelSender sender,
    IDeliveryQueue queue,
    PipelineSettings settings,
    TimeProvider clock,
    ISuppressionList? suppressions = null,
    IDeliveryDeadLetters? deadLetters = null,
    DeliveryRetryPolicy? retryPolicy = null,
    Results.ResultsRecorder? results = null,
    IFrequencyCapLedger? capLedger = null)
{
    private readonly DeliveryRetryPolicy _retry = retryPolicy ?? DeliveryRetryPolicy.Default;

    public async Task<DeliveryHandling> HandleAsync(DeliveryMessage message, CancellationToken cancellationToken)
    {
        // A message that carries its order needs no read: its row is written first by the claim (an insert, so of
        // several copies one wins). Without an order, or when the insert finds a row, the row decides.
        if (message.QueuedRecord() is { } carried)
        {
            return await HandleAsync(message, carried, version: null, cancellationToken);
        }

        return await HandleStoredAsync(message, cancellationToken);
    }

    private async Task<DeliveryHandling> HandleStoredAsync(DeliveryMessage message, CancellationToken cancellationToken)
    {
        var row = await deliveries.GetAsync(message.Customer, message.DeliveryId, cancellationToken);
        if (row is null)
        {
            return DeliveryHandling.Unknown;
        }

        if (DeliveryStatus.IsFinal(row.Value.Status))
        {
            // The attempt that made it final may have stopped before counting it: count it from the row (once, by its id).
            await CountAsync(row.Value, cancellationToken);
            return DeliveryHandling.AlreadyDone;
        }

        return await HandleAsync(message, row.Value, row.Version, cancellationToken);
    }

    /// <param name="version">The stored row's version; null while the order has no row yet.</param>
    private async Task<DeliveryHandling> HandleAsync(DeliveryMessage message, DeliveryRecord record, string? version, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (record.ScheduledFor > now)
        {
            // A durable timer may fire a moment before its time, and the journey decides as of that time: the send waits
            // for it (under a fast virtual clock a moment is hours). Nothing is written: it is simply not due yet.
            await queue.EnqueueDeliveryAsync(record.Channel, message, record.ScheduledFor, cancellationToken);
            return DeliveryHandling.Deferred;
        }

        var profile = (await profiles.GetAsync(message.Customer, cancellationToken))?.Value;
        if (profile is null && version is null)
        {
            return DeliveryHandling.Suppressed; // an erased (or unknown) customer: no row is written about them
        }

        var verdict = SendPolicy.Evaluate(profile, record.Channel, record.Class, now);
        if (verdict.RecheckAt is { } recheckAt)
        {
            return await RequeueAsync(message, record with { Reason = verdict.Reason }, version, recheckAt, DeliveryHandling.Deferred, cancellationToken);
        }

        if (verdict.Allowed && suppressions is not null && await SuppressedAsync(profile!, record.Channel, cancellationToken) is { } suppressedBecause)
        {
            verdict = SendVerdict.Block(suppressedBecause);
        }

        if (!verdict.Allowed)
        {
            return await TryWriteAsync(message, record with { Status = DeliveryStatus.Suppressed, Reason = verdict.Reason }, version, DeliveryHandling.Suppressed, cancellationToken);
        }

        var zone = CustomerContexts.ZoneOf(profile, settings.DefaultTimeZone);
        var allowedAt = QuietHours.NextAllowed(record.Channel, record.Class, now, zone, profile!.Consent.NightAds);
        if (allowedAt > now)
        {
            return await RequeueAsync(message, record with { Reason = $"quiet hours: deferred to {allowedAt:O}" }, version, allowedAt, DeliveryHandling.Deferred, cancellationToken);
        }

        if (await CapReachedAsync(record, zone, cancellationToken) is { } cap)
        {
            var capped = record with { Status = DeliveryStatus.Suppressed, Reason = $"frequency cap: {cap} reached by another journey's send" };
            return await TryWriteAsync(message, capped, version, DeliveryHandling.Suppressed, cancellationToken);
        }

        // Claim the row: of several workers holding copies of the message, one calls the provider.
        var resumed = record.Status == DeliveryStatus.Sending;
        if (resumed && record.ClaimedUntil is { } until && until > now)
        {
            // Another worker is on it right now; look again when its claim ends, in case it stopped.
            await queue.EnqueueDeliveryAsync(record.Channel, message, until, cancellationToken);
            return DeliveryHandling.InProgress;
        }

        var claimed = record with { Status = DeliveryStatus.Sending, Attempts = record.Attempts + 1, ClaimedUntil = now + _retry.ClaimLease };
        var claimVersion = await deliveries.TryUpdateVersionedAsync(claimed, version, cancellationToken);
        if (claimVersion is null)
        {
            return await LostRaceAsync(message, version, cancellationToken);
        }

        var outbound = new OutboundMessage(record.DeliveryId, record.Channel, record.Template, record.Class, profile)
        {
            ScheduledFor = record.ScheduledFor,
            Attempt = claimed.Attempts,
            Resumed = resumed,
            MaybeSentVia = record.MaybeSentVia,
        };
        var outcome = await sender.SendAsync(outbound, cancellationToken);
        var handling = await RecordAsync(message, claimed, claimVersion, profile, outcome, cancellationToken);
        if (outcome.ReachableOnKakao is { } reachable && profile.KakaoReachable != reachable)
        {
            await LearnKakaoReachabilityAsync(profiles, message.Customer, reachable, cancellationToken);
        }

        return handling;
    }

    /// <summary>
    /// Provider results and reports teach the profile whether Kakao reaches the customer, so later sends skip a doomed
    /// attempt. False when there is no profile (erased meanwhile).
    /// </summary>
    public static Task<bool> LearnKakaoReachabilityAsync(IProfileStore profiles, CustomerKey customer, bool reachable, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync("The profile's Kakao reachability", async _ =>
        {
            var current = await profiles.GetAsync(customer, cancellationToken);
            if (current is null)
            {
                return Attempt.Done(false);
            }

            return current.Value.KakaoReachable == reachable
                || await profiles.TrySaveAsync(current.Value with { KakaoReachable = reachable }, current.Version, cancellationToken)
                ? Attempt.Done(true)
                : Attempt.Lost;
        }, cancellationToken);

    /// <summary>Another worker wrote the row first: an insert that met a row lets the row decide (done, in progress, or resumable).</summary>
    private async Task<DeliveryHandling> LostRaceAsync(DeliveryMessage message, string? version, CancellationToken cancellationToken) =>
        version is null ? await HandleStoredAsync(message, cancellationToken) : DeliveryHandling.AlreadyDone;

    private async Task<DeliveryHandling> RecordAsync(DeliveryMessage message, DeliveryRecord claimed, string version, CustomerProfile profile, SendOutcome outcome, CancellationToken cancellationToken)
    {
        var tried = claimed with
        {
            ClaimedUntil = null, Kind = outcome.Kind ?? claimed.Kind, Provider = outcome.Provider ?? claimed.Provider,
            MaybeSentVia = outcome.MaybeSentVia ?? claimed.MaybeSentVia,
        };
        if (outcome.Sent)
        {
            var sent = tried with { Status = DeliveryStatus.Sent, SentAt = clock.GetUtcNow(), ProviderMessageId = outcome.ProviderMessageId, Reason = null };
            return await TryWriteAsync(message, sent, version, DeliveryHandling.Sent, cancellationToken);
        }

        if (outcome.RetryAt is { } at)
        {
            // Not attempted: give the attempt back and wait for the slot.
            var waiting = tried with { Status = DeliveryStatus.Queued, Attempts = claimed.Attempts - 1, Reason = outcome.FailureReason };
            return await RequeueAsync(message, waiting, version, at, DeliveryHandling.Deferred, cancellationToken);
        }

        if (outcome.Unconfirmed)
        {
            return await TryWriteAsync(message, tried with { Status = DeliveryStatus.Unconfirmed, Reason = outcome.FailureReason }, version, DeliveryHandling.Unconfirmed, cancellationToken);
        }

        if (outcome.Permanent)
        {
            if (outcome.InvalidRecipient && suppressions is not null && AddressOf(profile, claimed.Channel) is var (medium, address))
            {
                await suppressions.AddAsync(medium, address, $"invalid recipient: {outcome.FailureReason}", cancellationToken);
            }

            return await TryWriteAsync(message, tried with { Status = DeliveryStatus.Failed, Reason = outcome.FailureReason }, version, DeliveryHandling.Failed, cancellationToken);
        }

        if (claimed.Attempts >= _retry.MaxAttempts)
        {
            var dead = tried with { Status = DeliveryStatus.Failed, Reason = $"gave up after {claimed.Attempts} attempts: {outcome.FailureReason}" };
            if (!await deliveries.TryUpdateAsync(dead, version, cancellationToken))
            {
                return DeliveryHandling.AlreadyDone;
            }

            await CountAsync(dead, cancellationToken);

            if (deadLetters is not null)
            {
                await deadLetters.AddAsync(claimed.Channel, message, cancellationToken);
            }

            return DeliveryHandling.Failed;
        }

        var retryAt = clock.GetUtcNow() + _retry.DelayAfter(claimed.Attempts, claimed.DeliveryId);
        var retrying = tried with { Status = DeliveryStatus.Queued, Reason = $"attempt {claimed.Attempts} failed, retrying: {outcome.FailureReason}" };
        return await RequeueAsync(message, retrying, version, retryAt, DeliveryHandling.Retrying, cancellationToken);
    }

    /// <summary>
    /// The delivery-time guard of the frequency caps: takes the delivery's slot, counted at its ScheduledFor (the time the
    /// journey counted it by). Only marketing sends on a capped channel touch the ledger.
    /// </summary>
    private async Task<ReachedCap?> CapReachedAsync(DeliveryRecord record, TimeZoneInfo zone, CancellationToken cancellationToken)
    {
        var rules = settings.CrossJourney;
        if (capLedger is null || record.Class == MessageClass.Transactional || !rules.Caps.ContainsKey(record.Channel))
        {
            return null;
        }

        var request = new CapRequest(record.Customer, record.Channel, record.Class, record.DeliveryId, record.ScheduledFor, rules, zone);
        return await capLedger.ReserveAsync(request, cancellationToken);
    }

    private async Task<string?> SuppressedAsync(CustomerProfile profile, string channel, CancellationToken cancellationToken) =>
        AddressOf(profile, channel) is var (medium, address)
            ? await suppressions!.FindAsync(medium, address, cancellationToken) is { } reason ? $"address suppressed: {reason}" : null
            : null;

    /// <summary>The medium an address belongs to: SMS and Kakao reach the same phone number.</summary>
    public static (string Medium, string Address)? AddressOf(CustomerProfile profile, string channel) => channel switch
    {
        ChannelNames.Email when !string.IsNullOrWhiteSpace(profile.Email) => (SuppressionMedia.Email, profile.Email),
        ChannelNames.Sms or ChannelNames.Kakao when !string.IsNullOrWhiteSpace(profile.Phone) => (SuppressionMedia.Phone, profile.Phone),
        _ => null,
    };

    /// <summary>Notes why on the row (so the status tells it) and queues the message again for later.</summary>
    private async Task<DeliveryHandling> RequeueAsync(DeliveryMessage message, DeliveryRecord record, string? version, DateTimeOffset at, DeliveryHandling handling, CancellationToken cancellationToken)
    {
        if (!await deliveries.TryUpdateAsync(record, version, cancellationToken))
        {
            return await LostRaceAsync(message, version, cancellationToken);
        }

        await queue.EnqueueDeliveryAsync(record.Channel, message, at, cancellationToken);
        if (handling == DeliveryHandling.Deferred && results is not null)
        {
            await results.RecordAsync(Results.ResultFacts.OfDelivery(record, Results.Measures.Deferred, clock.GetUtcNow(), Results.Reasons.Category(record.Reason)), cancellationToken);
        }

        return handling;
    }

    private async Task<DeliveryHandling> TryWriteAsync(DeliveryMessage message, DeliveryRecord record, string? version, DeliveryHandling handling, CancellationToken cancellationToken)
    {
        if (await deliveries.TryUpdateAsync(record, version, cancellationToken))
        {
            await CountAsync(record, cancellationToken);
            return handling;
        }

        return await LostRaceAsync(message, version, cancellationToken);
    }

    /// <summary>Counts the row's final status in the journey's results: one storage operation, nothing if counted before.</summary>
    private Task CountAsync(DeliveryRecord record, CancellationToken cancellationToken) =>
        results is null ? Task.CompletedTask : results.RecordAsync(Results.ResultFacts.OfWorkerStatus(record, clock.GetUtcNow()), cancellationToken);
}

/// <summary>Suppression media: SMS and Kakao share the phone number.</summary>
public static class SuppressionMedia
{
    public const string Email = "email";
    public const string Phone = "phone";
}

public sealed class DeliveryFailedException(string message) : Exception(message);
