using Nudge.Core.Customers;
using Nudge.Core.Ingest;

namespace Nudge.Core.Pipeline;

/// <summary>
/// Carries out a privacy request: erases a customer (or every customer of a shop) from every store — events and
/// their raw payloads first, so a journey message still in flight finds nothing to rebuild the profile from; what
/// providers and clicks reported about each delivery before the delivery log that finds them; the consent history,
/// the frequency-cap slots and the marketing journey admissions — and completes the audit record, which holds counts
/// and never the customer.
/// </summary>
public sealed class PrivacyHandler(
    IEventStore events, IRawPayloadStore rawPayloads, IProfileStore profiles, IJourneyInstanceStore instances,
    IDeliveryLog deliveries, IDeliveryEvents deliveryEvents, Consent.IConsentLedger consents, IFrequencyCapLedger capLedger,
    IMarketingJourneyLedger marketingLedger, IOrderIndex orders, IProductInterestIndex interests, IPrivacyAuditLog audit, IPrivacyQueue queue,
    TimeProvider clock, IIntakeQueue intake, Recommendations.RecommendationModel? recommendations = null)
{
    /// <summary>
    /// How long an erasure waits for the intake to drain: deliveries acknowledged before the request may still sit in
    /// an intake batch, and erasing before they are stored would let them come back. Under a load that never lets the
    /// intake drain, the erasure goes ahead after this (only batches in flight at that moment can then slip past).
    /// </summary>
    public static readonly TimeSpan IntakeWait = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan IntakePoll = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// When the follow-up sweep runs: past the intake's processing lease and its first retry, so an intake batch that
    /// was in flight during the erasure (the drain wait above is bounded) has been stored by then and is erased again.
    /// </summary>
    public static readonly TimeSpan SweepAfter = TimeSpan.FromMinutes(15);

    public const string StatusReceived = "received";
    public const string StatusCompleted = "completed";

    public static PrivacyAuditRecord Received(PrivacyRequest request, DateTimeOffset now) =>
        new(request.Platform, request.ShopDomain, request.RequestId, request.Kind, StatusReceived, now, null, 0, 0, 0, 0, 0);

    /// <summary>
    /// Records the request (without personal data; the payload itself is not kept) and queues it. Erasure is
    /// idempotent, so a redelivery before the first run completed is queued again harmlessly.
    /// </summary>
    public async Task<IngestOutcome> AcceptAsync(PrivacyRequest request, CancellationToken cancellationToken)
    {
        var existing = await audit.GetAsync(request.Platform, request.ShopDomain, request.RequestId, cancellationToken);
        if (existing is { CompletedAt: not null })
        {
            return IngestOutcome.Duplicate;
        }

        if (existing is null)
        {
            await audit.RecordAsync(Received(request, clock.GetUtcNow()), cancellationToken);
        }

        await queue.EnqueuePrivacyAsync(request, cancellationToken);
        return existing is null ? IngestOutcome.Accepted : IngestOutcome.Duplicate;
    }

    /// <param name="runtime">Where the customers' journey instances run: their runs are ended and deleted first, so none writes again.</param>
    public async Task<PrivacyAuditRecord> HandleAsync(PrivacyRequest request, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var record = await audit.GetAsync(request.Platform, request.ShopDomain, request.RequestId, cancellationToken)
            ?? Received(request, clock.GetUtcNow());
        if (record.CompletedAt is not null && request.Pass == 1)
        {
            return record;
        }

        // Real time, not the virtual clock: this waits for other processes' storage work.
        for (var waited = TimeSpan.Zero; waited < IntakeWait && !await intake.IsDrainedAsync(cancellationToken); waited += IntakePoll)
        {
            await Task.Delay(IntakePoll, cancellationToken);
        }

        var customers = request.Kind switch
        {
            PrivacyRequestKind.RedactCustomer => [new CustomerKey(request.Platform, request.CustomerId!)],
            PrivacyRequestKind.RedactShop => await CustomersOfShopAsync(request, cancellationToken),
            _ => [],
        };

        foreach (var customer in customers)
        {
            await foreach (var instance in instances.ListForCustomerAsync(customer, cancellationToken))
            {
                await runtime.EraseAsync(instance.InstanceId, cancellationToken);
            }

            foreach (var delivery in await deliveries.ListForCustomerAsync(customer, cancellationToken))
            {
                await deliveryEvents.DeleteForDeliveryAsync(delivery.DeliveryId, cancellationToken);
            }

            record = record with
            {
                Customers = record.Customers + (request.Pass == 1 ? 1 : 0), // the sweep adds what came back, not customers
                Events = record.Events + await events.DeleteForCustomerAsync(customer, cancellationToken),
                RawPayloads = record.RawPayloads + await rawPayloads.DeleteAsync(request.Platform, request.ShopDomain, customer.CustomerId, cancellationToken),
                Instances = record.Instances + await instances.DeleteForCustomerAsync(customer, cancellationToken),
                Deliveries = record.Deliveries + await deliveries.DeleteForCustomerAsync(customer, cancellationToken),
            };
            await orders.DeleteForCustomerAsync(customer, cancellationToken);
            await interests.DeleteForCustomerAsync(customer, cancellationToken);
            if (recommendations is not null)
            {
                await recommendations.ForgetCustomerAsync(customer);
            }

            await consents.DeleteForCustomerAsync(customer, cancellationToken);
            await capLedger.DeleteForCustomerAsync(customer, cancellationToken);
            await marketingLedger.DeleteForCustomerAsync(customer, cancellationToken);
            await profiles.DeleteAsync(customer, cancellationToken);
        }

        if (request.Kind == PrivacyRequestKind.RedactShop)
        {
            record = record with { RawPayloads = record.RawPayloads + await rawPayloads.DeleteAsync(request.Platform, request.ShopDomain, null, cancellationToken) };
            await orders.DeleteForShopAsync(request.Platform, request.ShopDomain, cancellationToken);
            if (recommendations is not null)
            {
                await recommendations.ForgetShopAsync(request.ShopDomain, cancellationToken);
            }
        }

        record = record with { Status = StatusCompleted, CompletedAt = record.CompletedAt ?? clock.GetUtcNow() };
        await audit.RecordAsync(record, cancellationToken);
        if (request.Pass == 1 && request.Kind != PrivacyRequestKind.DataRequest)
        {
            await queue.EnqueuePrivacyAsync(request with { Pass = 2 }, cancellationToken, SweepAfter);
        }

        return record;
    }

    private async Task<List<CustomerKey>> CustomersOfShopAsync(PrivacyRequest request, CancellationToken cancellationToken)
    {
        var keys = new HashSet<CustomerKey>();
        await foreach (var key in profiles.ListCustomersOfShopAsync(request.Platform, request.ShopDomain, cancellationToken))
        {
            keys.Add(key);
        }

        await foreach (var key in events.ListCustomersOfShopAsync(request.Platform, request.ShopDomain, cancellationToken))
        {
            keys.Add(key);
        }

        return [.. keys];
    }
}
