using System.Text.Json;
using Nudge.Core.Events;

namespace Nudge.Core.Ingest;

/// <summary>What a source's payload maps to: an event, an erasure, a catalog change, nothing the engine needs, or a client mistake.</summary>
public abstract record IngestParse
{
    public sealed record Mapped(CustomerEvent Event) : IngestParse;

    /// <summary>A privacy request (erase a customer or a whole shop, or report what is held).</summary>
    public sealed record Privacy(PrivacyRequest Request) : IngestParse;

    /// <summary>Prices of a product's variants as of <see cref="CatalogUpdate.UpdatedAt"/>.</summary>
    public sealed record Catalog(CatalogUpdate Update) : IngestParse;

    /// <summary>An event about an order whose payload names no customer (a Shopify refund): attributed through the order index.</summary>
    public sealed record OrderScoped(string OrderId, CustomerEvent Event) : IngestParse;

    public sealed record Ignored(string Reason) : IngestParse;

    public sealed record Invalid(string Detail) : IngestParse;
}

public enum PrivacyRequestKind
{
    /// <summary>Erase one customer's profile, events, journey instances and delivery log.</summary>
    RedactCustomer,

    /// <summary>Erase every customer of one shop.</summary>
    RedactShop,

    /// <summary>The customer asked what the shop holds: recorded for the shop owner, nothing erased.</summary>
    DataRequest,
}

/// <summary>A privacy request. <see cref="RequestId"/> is deterministic from the delivery, so a redelivery is recognised.</summary>
/// <param name="Pass">1 for the erasure itself; 2 for the sweep that follows it, which erases what deliveries
/// acknowledged before the request but stored after it brought back.</param>
public sealed record PrivacyRequest(PrivacyRequestKind Kind, string Platform, string ShopDomain, string? CustomerId, string RequestId, int Pass = 1);

/// <summary>A product's variant prices at the source (price-drop alerts) and what a message needs to show it (recommendations).</summary>
public sealed record CatalogUpdate(string Platform, string ShopDomain, string ProductId, DateTimeOffset UpdatedAt, IReadOnlyList<VariantPrice> Variants, ProductFacts? Facts = null);

/// <summary>
/// What a message shows of a product and whether it may be recommended: its title, page, image, lowest price (in
/// <paramref name="Currency"/> when the source says; else the shop's), published (visible in the shop) and in stock.
/// </summary>
public sealed record ProductFacts(string? Title, string? Url, string? ImageUrl, decimal? Price, string? Currency, bool Published, bool InStock)
{
    /// <summary>Can be recommended now: a customer who follows the link can buy it.</summary>
    public bool Sellable => Published && InStock;
}

public sealed record VariantPrice(string VariantId, decimal Price, decimal? CompareAtPrice);

/// <summary>
/// When a delivery arrived and when its source says it was triggered (Shopify's <c>X-Shopify-Triggered-At</c>): what
/// a body without a time of its own is dated by. A retry resends the original body and trigger time, so a retried
/// delivery never passes for newer than what followed it; the receipt time is the last resort.
/// </summary>
public sealed record DeliveryTimes(DateTimeOffset ReceivedAt, DateTimeOffset? TriggeredAt = null)
{
    /// <summary>The time to use for a missing <paramref name="field"/>, and the note that says so.</summary>
    public (DateTimeOffset Time, string Note) Fallback(string field) => TriggeredAt is { } triggered
        ? (triggered, $"'{field}' missing: dated by the delivery's trigger time")
        : (ReceivedAt, $"'{field}' missing: dated by the time it was received");
}

/// <summary>
/// Dates one delivery: a field's own timestamp when the body has one, else the delivery's times
/// (<see cref="DeliveryTimes.Fallback"/>), noting each fallback as degraded for the event to carry.
/// </summary>
public sealed class DeliveryDating(DeliveryTimes? times, TimeSpan offsetIfNone = default)
{
    private readonly List<string> _degraded = [];

    /// <summary>What was filled in, or null if nothing was.</summary>
    public IReadOnlyList<string>? Degraded => _degraded.Count > 0 ? [.. _degraded] : null;

    /// <summary>The first of <paramref name="fields"/> that holds a timestamp, else the delivery's own time (noted); null without either.</summary>
    public DateTimeOffset? Time(JsonElement element, params string[] fields)
    {
        foreach (var field in fields)
        {
            if (JsonFields.TryGetTime(element, field, offsetIfNone, out var time))
            {
                return time;
            }
        }

        if (times is null)
        {
            return null;
        }

        var (fallback, note) = times.Fallback(fields[0]);
        if (!_degraded.Contains(note))
        {
            _degraded.Add(note);
        }

        return fallback;
    }
}
