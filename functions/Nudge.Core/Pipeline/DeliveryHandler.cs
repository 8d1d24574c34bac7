using Nudge.Core.Compliance;
using Nudge.Core.Delivery;

namespace Nudge.Core.Pipeline;

public enum DeliveryHandling
{
    Sent,
    Suppressed,

    /// <summary>Not allowed at this hour: queued again for the next allowed time.</summary>
    Deferred,

    /// <summary>Already final: a redelivered queue message, sends nothing.</summary>
    AlreadyDone,

    /// <summary>No delivery row under that id.</summary>
    Unknown,
}

/// <summary>
/// The channel worker's logic: dedupe by the delivery id, apply consent and quiet hours at send time (they may
/// have changed, and the queue may have delayed the message), send, record the outcome. A failed send throws,
/// so the queue retries it later.
/// </summary>
public sealed class DeliveryHandler(IDeliveryLog deliveries, IProfileStore profiles, IChannelSender sender, IWorkQueue queue, PipelineSettings settings, TimeProvider clock)
{
    public async Task<DeliveryHandling> HandleAsync(DeliveryMessage message, CancellationToken cancellationToken)
    {
        var row = await deliveries.GetAsync(message.Customer, message.DeliveryId, cancellationToken);
        if (row is null)
        {
            return DeliveryHandling.Unknown;
        }

        var record = row.Value;
        if (DeliveryStatus.IsFinal(record.Status))
        {
            return DeliveryHandling.AlreadyDone;
        }

        var profile = (await profiles.GetAsync(message.Customer, cancellationToken))?.Value;
        var verdict = SendPolicy.Evaluate(profile, record.Channel, record.Class);
        if (!verdict.Allowed)
        {
            var suppressed = record with { Status = DeliveryStatus.Suppressed, Reason = verdict.Reason };
            return await deliveries.TryUpdateAsync(suppressed, row.Version, cancellationToken)
                ? DeliveryHandling.Suppressed
                : DeliveryHandling.AlreadyDone;
        }

        var now = clock.GetUtcNow();
        var zone = CustomerContexts.ZoneOf(profile, settings.DefaultTimeZone);
        var allowedAt = QuietHours.NextAllowed(record.Channel, record.Class, now, zone, profile!.Consent.NightAds);
        if (allowedAt > now)
        {
            var deferred = record with { Reason = $"quiet hours: deferred to {allowedAt:O}" };
            if (!await deliveries.TryUpdateAsync(deferred, row.Version, cancellationToken))
            {
                return DeliveryHandling.AlreadyDone;
            }

            await queue.EnqueueDeliveryAsync(record.Channel, message, allowedAt, cancellationToken);
            return DeliveryHandling.Deferred;
        }

        var outcome = await sender.SendAsync(new OutboundMessage(record.DeliveryId, record.Channel, record.Template, record.Class, profile), cancellationToken);
        if (!outcome.Sent)
        {
            throw new DeliveryFailedException($"The {record.Channel} sender refused delivery: {outcome.FailureReason}");
        }

        var sent = record with { Status = DeliveryStatus.Sent, SentAt = clock.GetUtcNow(), ProviderMessageId = outcome.ProviderMessageId, Reason = null };
        return await deliveries.TryUpdateAsync(sent, row.Version, cancellationToken)
            ? DeliveryHandling.Sent
            : DeliveryHandling.AlreadyDone;
    }
}

public sealed class DeliveryFailedException(string message) : Exception(message);
