using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Recommendations;

/// <summary>A product a message shows: what the catalog holds of it, and why it was chosen.</summary>
public sealed record RecommendedProduct(string ProductId, string Title, string Url, string? ImageUrl, decimal? Price, string? Currency, RecommendationReason Reason);

/// <summary>Product links in messages: a tracked link's key names the product, and the click redirect finds its page in the catalog (no open redirect).</summary>
public static class ProductLinks
{
    private const string Prefix = "product:";

    public static string Key(string productId) => Prefix + productId;

    public static string? ProductIdOf(string link) => link.StartsWith(Prefix, StringComparison.Ordinal) && link.Length > Prefix.Length ? link[Prefix.Length..] : null;
}

/// <summary>
/// One customer's recommendations at render time: their interactions from their stored events, ranked by
/// <see cref="Recommender"/> over their shop's live graph, kept only when the catalog knows the product with a title
/// and page and says it can be sold now.
/// </summary>
public sealed class CustomerRecommendations(IEventStore events, ICatalogStore catalog, RecommendationModel model)
{
    /// <summary>Candidates ranked before the catalog is asked: enough that unsellable ones rarely leave a message short.</summary>
    public const int Candidates = 30;

    public async Task<IReadOnlyList<RecommendedProduct>> ForAsync(CustomerProfile customer, int count, CancellationToken cancellationToken)
    {
        if (count <= 0 || customer.ShopDomain is not { } shop)
        {
            return [];
        }

        var history = new List<Interaction>();
        await foreach (var evt in events.ListForCustomerAsync(customer.Key, ProductInteractions.Types, cancellationToken))
        {
            history.AddRange(ProductInteractions.Of(evt));
        }

        // Ranked without the catalog first (the graph is read under its lock, the catalog is I/O), then filtered in rank order.
        var ranked = await model.ReadAsync(shop, graph => Recommender.For(history, graph, _ => true, Candidates), cancellationToken);
        var facts = await catalog.GetProductsAsync(customer.Key.Platform, shop, ranked.Select(r => r.ProductId).ToList(), cancellationToken);
        return ranked
            .Where(r => facts.TryGetValue(r.ProductId, out var f) && f.Sellable && f.Title is not null && f.Url is not null)
            .Take(count)
            .Select(r => facts[r.ProductId] is var f ? new RecommendedProduct(r.ProductId, f.Title!, f.Url!, f.ImageUrl, f.Price, f.Currency, r.Reason) : null!)
            .ToList();
    }
}
