using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Consent;

/// <summary>Consent media: the medium an ad may use, plus the separate night-time consent. Wire contracts.</summary>
public static class ConsentMedia
{
    public const string Email = "email";
    public const string Sms = "sms";
    public const string Kakao = "kakao";
    public const string Night = "night";

    public static string ForChannel(string channel) => channel switch
    {
        ChannelNames.Email => Email,
        ChannelNames.Kakao => Kakao,
        _ => Sms,
    };
}

/// <summary>
/// One change of consent, kept for good: which medium, for what purpose, granted or withdrawn, where it came from,
/// when, and the version of the consent text the customer saw. The law wants the customer told of the change
/// within 14 days (<see cref="ConfirmBy"/>) and consent re-confirmed every 2 years (<see cref="ReconfirmBy"/>).
/// </summary>
public sealed record ConsentEntry
{
    public required CustomerKey Customer { get; init; }
    public required string Medium { get; init; }
    public string Purpose { get; init; } = "marketing";
    public required bool Granted { get; init; }
    public required string Source { get; init; }
    public required DateTimeOffset At { get; init; }
    public required string TextVersion { get; init; }

    /// <summary>The delivery that tells the customer of this change (set when it is queued).</summary>
    public string? ConfirmationDeliveryId { get; init; }

    public DateTimeOffset ConfirmBy => At + ConsentRules.ConfirmWithin;

    public DateTimeOffset? ReconfirmBy => Granted ? At + ConsentRules.ReconfirmEvery : null;
}

public static class ConsentRules
{
    /// <summary>The text version of consent the shop collected on its own pages (its forms' wording is the shop's record).</summary>
    public const string ShopTextVersion = "shop";

    /// <summary>
    /// The ledger entries a change of the profile's consent makes, one per medium that changed, stamped with the time
    /// the source changed it (so a redelivered event writes the same entries again, and the store keeps one).
    /// </summary>
    public static IReadOnlyList<ConsentEntry> Changes(CustomerKey customer, MarketingConsent before, MarketingConsent after, string source, DateTimeOffset at)
    {
        var entries = new List<ConsentEntry>();
        void Add(string medium, bool was, bool now)
        {
            if (was != now)
            {
                entries.Add(new ConsentEntry { Customer = customer, Medium = medium, Granted = now, Source = source, At = at, TextVersion = ShopTextVersion });
            }
        }

        Add(ConsentMedia.Email, before.Email, after.Email);
        Add(ConsentMedia.Sms, before.Sms, after.Sms);
        Add(ConsentMedia.Night, before.NightAds, after.NightAds);
        return entries;
    }

    public static readonly TimeSpan ConfirmWithin = TimeSpan.FromDays(14);
    public static readonly TimeSpan ReconfirmEvery = TimeSpan.FromDays(365 * 2);

    /// <summary>The version of the unsubscribe wording the link and page show.</summary>
    public const string UnsubscribeTextVersion = "unsubscribe-2026-11";
}

public interface IConsentLedger
{
    Task AppendAsync(ConsentEntry entry, CancellationToken cancellationToken);

    Task<IReadOnlyList<ConsentEntry>> ListAsync(CustomerKey customer, CancellationToken cancellationToken);

    /// <summary>The customer's whole history, on erasure; returns how many entries there were.</summary>
    Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken);
}

public enum WithdrawalOutcome
{
    Withdrawn,
    AlreadyWithdrawn,
    UnknownCustomer,
}

/// <summary>
/// Records a withdrawal: ledger entry, profile consent off (so every pending ad to that medium is suppressed at
/// send time), and a transactional notice that confirms the change to the customer at once (well inside 14 days).
/// </summary>
public sealed class ConsentHandler(IConsentLedger ledger, IProfileStore profiles, IDeliveryLog deliveries, IDeliveryQueue queue, TimeProvider clock, Results.ResultsRecorder? results = null)
{
    public const string NoticeJourney = "consent";

    public async Task<WithdrawalOutcome> WithdrawAsync(CustomerKey customer, string medium, string source, string sourceDeliveryId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var outcome = await OptimisticConcurrency.RetryAsync("The consent withdrawal", async _ =>
        {
            var current = await profiles.GetAsync(customer, cancellationToken);
            if (current is null)
            {
                return Attempt.Done(WithdrawalOutcome.UnknownCustomer);
            }

            var profile = current.Value;
            if (!profile.Consent.Of(medium))
            {
                return Attempt.Done(WithdrawalOutcome.AlreadyWithdrawn);
            }

            // The withdrawal is the newest word on consent: an older shop update arriving later must not revive it.
            var withdrawn = profile.WithConsent(medium, granted: false, Later(profile.ConsentStatedAtFor(medium), now));
            return await profiles.TrySaveAsync(withdrawn, current.Version, cancellationToken)
                ? Attempt.Done(WithdrawalOutcome.Withdrawn)
                : Attempt.Lost;
        }, cancellationToken);
        if (outcome == WithdrawalOutcome.UnknownCustomer)
        {
            return outcome;
        }

        var noticeId = DeliveryId.For($"{customer.Platform}/{customer.CustomerId}/consent/{sourceDeliveryId}", 0, 0);
        if (outcome == WithdrawalOutcome.AlreadyWithdrawn)
        {
            // Asked again, or an earlier request stopped between the profile and the ledger: the ledger says which.
            var recorded = (await ledger.ListAsync(customer, cancellationToken)).Where(e => e.Medium == medium).MaxBy(e => e.At);
            if (recorded is { Granted: false })
            {
                if (recorded.ConfirmationDeliveryId is { } confirmation)
                {
                    await NotifyAsync(customer, medium, confirmation, recorded.At, cancellationToken);
                }

                // The message's unsubscribe counts once, however often it is asked.
                await CountAsync(customer, sourceDeliveryId, cancellationToken);
                return outcome;
            }
        }

        await ledger.AppendAsync(new ConsentEntry
        {
            Customer = customer, Medium = medium, Granted = false, Source = source, At = now,
            TextVersion = ConsentRules.UnsubscribeTextVersion, ConfirmationDeliveryId = noticeId,
        }, cancellationToken);
        await NotifyAsync(customer, medium, noticeId, now, cancellationToken);
        await CountAsync(customer, sourceDeliveryId, cancellationToken);
        return WithdrawalOutcome.Withdrawn;
    }

    /// <summary>Queues the notice that confirms a withdrawal, unless it has left the queue already (it is sent once, by its id).</summary>
    private async Task NotifyAsync(CustomerKey customer, string medium, string noticeId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var noticeChannel = medium == ConsentMedia.Email ? ChannelNames.Email : ChannelNames.Sms;
        await deliveries.AddQueuedAsync(new DeliveryRecord
        {
            DeliveryId = noticeId, Customer = customer, JourneyId = NoticeJourney, StepIndex = 0, Channel = noticeChannel,
            Template = noticeChannel == ChannelNames.Email ? "consent-withdrawn-email" : "consent-withdrawn-sms",
            Class = MessageClass.Transactional, Status = DeliveryStatus.Queued, ScheduledFor = at,
        }, cancellationToken);
        if (await deliveries.GetAsync(customer, noticeId, cancellationToken) is { Value.Status: DeliveryStatus.Queued })
        {
            await queue.EnqueueDeliveryAsync(noticeChannel, new DeliveryMessage(customer.Platform, customer.CustomerId, noticeId), null, cancellationToken);
        }
    }

    /// <summary>An unsubscribe from a journey's message counts in that journey's results, on the message's step.</summary>
    private async Task CountAsync(CustomerKey customer, string sourceDeliveryId, CancellationToken cancellationToken)
    {
        if (results is not null && await deliveries.GetAsync(customer, sourceDeliveryId, cancellationToken) is { } row)
        {
            await results.RecordAsync(Results.ResultFacts.OfDelivery(row.Value, Results.Measures.Unsubscribed, clock.GetUtcNow()), cancellationToken);
        }
    }

    private static DateTimeOffset Later(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
