using Nudge.Core.Delivery;

namespace Nudge.Core.Pipeline;

/// <summary>What a provider reported about a delivery after it left. Persisted as event types: wire contracts.</summary>
public enum DeliveryReport
{
    Delivered,

    /// <summary>Hard bounce (email) or a number that does not exist: the address is suppressed.</summary>
    Bounced,

    /// <summary>Not delivered for a reason that says nothing about the address (soft bounce, carrier failure).</summary>
    NotDelivered,

    Opened,
    Clicked,

    /// <summary>A Kakao message the customer cannot get (no KakaoTalk, not a channel friend): it falls back to SMS/LMS.</summary>
    NotOnKakao,
}

public enum ReportHandling
{
    Applied,
    UnknownDelivery,
}

/// <summary>
/// Applies provider reports (ACS delivery and engagement reports, SMS/Kakao reports) and clicks to the delivery log:
/// delivered and bounced are statuses; opens and clicks are events. A bounce suppresses the address, which stops
/// every pending send to it at its send-time check. A Kakao message reported undeliverable to a customer Kakao
/// cannot reach teaches the profile so, and goes out again as its SMS/LMS fallback (ad labels included), once.
/// </summary>
public sealed class DeliveryReportHandler(
    IDeliveryLog deliveries, IDeliveryEvents events, IProfileStore profiles, ISuppressionList suppressions, IDeliveryQueue queue, Results.ResultsRecorder? results = null)
{
    public async Task<ReportHandling> ApplyAsync(string deliveryId, DeliveryReport report, string? detail, CancellationToken cancellationToken)
    {
        if (await events.FindDeliveryAsync(deliveryId, cancellationToken) is not { } found)
        {
            return ReportHandling.UnknownDelivery;
        }

        var customer = found.Customer;
        await events.RecordAsync(customer, deliveryId, report.ToString().ToLowerInvariant(), detail, cancellationToken);
        if (report is DeliveryReport.Opened or DeliveryReport.Clicked)
        {
            await CountAsync(found, report == DeliveryReport.Opened ? Results.Measures.Opened : Results.Measures.Clicked, cancellationToken);
            return ReportHandling.Applied;
        }

        if (report is DeliveryReport.NotDelivered)
        {
            return ReportHandling.Applied;
        }

        if (report == DeliveryReport.NotOnKakao)
        {
            return await FallBackToSmsAsync(customer, deliveryId, detail, cancellationToken);
        }

        return await OptimisticConcurrency.RetryAsync($"The report on delivery {deliveryId}", async _ =>
        {
            var row = await deliveries.GetAsync(customer, deliveryId, cancellationToken);
            if (row is null)
            {
                return Attempt.Done(ReportHandling.UnknownDelivery);
            }

            var record = row.Value;
            if (report == DeliveryReport.Bounced)
            {
                var profile = (await profiles.GetAsync(customer, cancellationToken))?.Value;
                if (profile is not null && DeliveryHandler.AddressOf(profile, record.Channel) is var (medium, address))
                {
                    await suppressions.AddAsync(medium, address, $"bounced: {detail}", cancellationToken);
                }
            }

            // Reports may arrive out of order; a bounce wins over delivered, nothing goes back to queued.
            var status = report == DeliveryReport.Bounced ? DeliveryStatus.Bounced
                : record.Status is DeliveryStatus.Bounced ? record.Status
                : DeliveryStatus.Delivered;
            if (status != record.Status && !await deliveries.TryUpdateAsync(record with { Status = status, Reason = detail ?? record.Reason }, row.Version, cancellationToken))
            {
                return Attempt.Lost;
            }

            // Counted after the status is written; a repeated report (its sender retries until we answer) counts
            // what a stop in between missed, and nothing twice.
            await CountAsync(record, status == DeliveryStatus.Bounced ? Results.Measures.Bounced : Results.Measures.Delivered, cancellationToken);
            return Attempt.Done(ReportHandling.Applied);
        }, cancellationToken);
    }

    /// <summary>One report about one delivery counts once in its journey's results (one storage operation).</summary>
    private Task CountAsync(DeliveryRecord record, string measure, CancellationToken cancellationToken) =>
        results is null ? Task.CompletedTask : results.RecordAsync(Results.ResultFacts.OfDelivery(record, measure, results.Now), cancellationToken);

    private async Task<ReportHandling> FallBackToSmsAsync(Customers.CustomerKey customer, string deliveryId, string? detail, CancellationToken cancellationToken)
    {
        var row = await deliveries.GetAsync(customer, deliveryId, cancellationToken);
        if (row is null)
        {
            return ReportHandling.UnknownDelivery;
        }

        var record = row.Value;
        if (record.Channel != ChannelNames.Kakao)
        {
            return ReportHandling.Applied; // only a Kakao message has an SMS fallback
        }

        // Learn first: the fallback's worker then routes the same Kakao order to SMS/LMS with its labels.
        if (!await DeliveryHandler.LearnKakaoReachabilityAsync(profiles, customer, reachable: false, cancellationToken))
        {
            return ReportHandling.Applied; // erased meanwhile: nothing to send
        }

        if (record.Status != DeliveryStatus.Failed)
        {
            await deliveries.TryUpdateAsync(record with { Status = DeliveryStatus.Failed, Reason = $"not on Kakao ({detail}): sent again as SMS/LMS" }, row.Version, cancellationToken);
        }

        // One fallback per delivery, whatever the number of reports: its id is minted from the original's.
        var fallback = new DeliveryOrder(record.JourneyId, record.StepIndex, record.Channel, record.Template, record.Class, record.ScheduledFor);
        await queue.EnqueueDeliveryAsync(ChannelNames.Kakao, new DeliveryMessage(customer.Platform, customer.CustomerId, FallbackId(deliveryId), fallback), null, cancellationToken);
        return ReportHandling.Applied;
    }

    /// <summary>The delivery id of a Kakao message's SMS/LMS fallback.</summary>
    public static string FallbackId(string deliveryId) => DeliveryId.For($"{deliveryId}/sms-fallback", 0, 0);
}
