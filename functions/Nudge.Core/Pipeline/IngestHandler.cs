using Nudge.Core.Events;

namespace Nudge.Core.Pipeline;

public enum IngestOutcome
{
    Accepted,

    /// <summary>The delivery id was seen before; acknowledged, nothing done twice.</summary>
    Duplicate,
}

/// <summary>
/// Makes an incoming event durable and hands it to the journeys asynchronously, so the source gets its
/// acknowledgement fast: three storage operations per event (insert event + raw body, enqueue, mark dispatched; an
/// order placed also files its order in the order index). Webhooks go through <see cref="GroupCommit"/> instead;
/// this direct path serves reconciliation (which counts what it filled from the durable outcome) and deliveries too large to batch.
/// Every step is idempotent by the event id, so a retry after a crash completes the work.
/// </summary>
public sealed class IngestHandler(IEventStore events, IRawPayloadStore rawPayloads, IWorkQueue queue, IOrderIndex orders, IProductInterestIndex interests)
{
    public async Task<IngestOutcome> AcceptAsync(CustomerEvent evt, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        // The raw body is kept with the event in one write; only a large one goes to the raw payload store first.
        // (A batch message has no body of its own: its event is its record.)
        if (rawBody.Length > IEventStore.InlineRawBodyLimit)
        {
            await rawPayloads.SaveAsync(evt.Customer.Platform, evt.ShopDomain ?? "unknown", evt.Customer.CustomerId, deliveryId, rawBody, cancellationToken);
        }

        var added = rawBody.Length is > 0 and <= IEventStore.InlineRawBodyLimit
            ? await events.TryAddAsync(evt, rawBody, cancellationToken)
            : await events.TryAddAsync(evt, cancellationToken);
        if (added is EventAddResult.SeenAndDispatched or EventAddResult.SeenInFlight)
        {
            return IngestOutcome.Duplicate;
        }

        await RememberIndexesAsync(evt, cancellationToken);
        await queue.EnqueueEventAsync(new JourneyEventMessage(evt.Customer.Platform, evt.Customer.CustomerId, evt.EventId), cancellationToken);
        await events.MarkDispatchedAsync(evt.Customer, evt.EventId, cancellationToken);
        return added == EventAddResult.Added ? IngestOutcome.Accepted : IngestOutcome.Duplicate;
    }

    /// <summary>Files an order under its customer and a viewed or carted product under its interested customer (upserts: safe to repeat).</summary>
    public async Task RememberIndexesAsync(CustomerEvent evt, CancellationToken cancellationToken)
    {
        if (evt.Type == EventTypes.OrderPlaced && evt.ShopDomain is { } shop && evt.SubjectId is { } orderId)
        {
            await orders.RememberAsync(shop, orderId, evt.Customer, cancellationToken);
        }

        if ((evt.Type == EventTypes.ProductViewed || EventTypes.IsCart(evt.Type)) && evt.ShopDomain is { } interestShop)
        {
            foreach (var productId in (evt.Items ?? []).Select(i => i.ProductId).Distinct())
            {
                await interests.RememberAsync(interestShop, productId, evt.Customer, cancellationToken);
            }
        }
    }
}

/// <summary>Keeps products' prices (newest wins by the source's time) and reports the price drops they reveal.</summary>
public sealed class CatalogHandler(IRawPayloadStore rawPayloads, ICatalogStore catalog, IPriceDropQueue drops, IProductInterestIndex interests, GroupCommit intake)
{
    /// <summary>Keeps the prices and queues each drop for the fan-out (a popular product can have many interested customers).</summary>
    public async Task<IReadOnlyList<PriceDrop>> AcceptAsync(Ingest.CatalogUpdate update, string deliveryId, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        await rawPayloads.SaveAsync(update.Platform, update.ShopDomain, customerId: null, deliveryId, rawBody, cancellationToken);
        var found = await catalog.ApplyAsync(update, cancellationToken);
        foreach (var drop in found)
        {
            await drops.EnqueuePriceDropAsync(new PriceDropMessage(update.Platform, update.ShopDomain, drop.ProductId, drop.VariantId, drop.OldPrice, drop.NewPrice, update.UpdatedAt), cancellationToken);
        }

        return found;
    }

    /// <summary>Customers handed to the intake at a time: a few intake writes' worth, so memory stays bounded.</summary>
    public const int FanOutPage = 1_000;

    /// <summary>
    /// Mints one <see cref="EventTypes.ProductPriceDropped"/> per customer who viewed or carted the product, with an
    /// id deterministic from the drop and the customer, so a redelivered message adds nothing. The events go through
    /// the group commit, a hundred to an intake write, as webhooks do. Returns how many were new to this process.
    /// </summary>
    public async Task<int> FanOutAsync(PriceDropMessage drop, CancellationToken cancellationToken)
    {
        var dropPercent = drop.OldPrice <= 0 ? 0 : Math.Round((drop.OldPrice - drop.NewPrice) * 100 / drop.OldPrice, 1);
        var properties = new Dictionary<string, string>
        {
            ["dropPercent"] = dropPercent.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["oldPrice"] = drop.OldPrice.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["newPrice"] = drop.NewPrice.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["productId"] = drop.ProductId,
            ["variantId"] = drop.VariantId,
        };
        var count = 0;
        var page = new List<IntakeDelivery>(FanOutPage);
        async Task HandOverAsync()
        {
            count += (await intake.AcceptAllAsync(page, cancellationToken)).Count(o => o == IngestOutcome.Accepted);
            page.Clear();
        }

        await foreach (var customer in interests.ListAsync(drop.ShopDomain, drop.ProductId, cancellationToken))
        {
            var deliveryId = $"pricedrop:{drop.VariantId}:{drop.UpdatedAt.ToUnixTimeSeconds()}:{customer.Platform}:{customer.CustomerId}";
            var evt = CustomerEvent.Of($"{drop.Platform}-{deliveryId}", customer, EventTypes.ProductPriceDropped, drop.UpdatedAt, drop.ShopDomain, drop.ProductId) with
            {
                Items = [new LineItem(drop.ProductId, drop.VariantId, 1, null, null)],
                Properties = properties,
            };
            page.Add(new IntakeDelivery(evt, deliveryId, ReadOnlyMemory<byte>.Empty));
            if (page.Count == FanOutPage)
            {
                await HandOverAsync();
            }
        }

        await HandOverAsync();
        return count;
    }
}
