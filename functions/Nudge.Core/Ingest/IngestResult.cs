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

/// <summary>A product's variant prices at the source, for price-drop alerts.</summary>
public sealed record CatalogUpdate(string Platform, string ShopDomain, string ProductId, DateTimeOffset UpdatedAt, IReadOnlyList<VariantPrice> Variants);

public sealed record VariantPrice(string VariantId, decimal Price, decimal? CompareAtPrice);
