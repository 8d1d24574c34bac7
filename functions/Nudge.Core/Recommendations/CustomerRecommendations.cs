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
/// One customer's recommendations at render time: their interactions from their stored events (views and carts of the
/// last <see cref="RecentDays"/> days, orders of any time), ranked by <see cref="Recommender"/> over their shop's live
/// graph, kept only when the catalog knows the product with a title and page and says it can be sold now.
/// </summary>
public sealed class CustomerRecommendations(IEventStore events, ICatalogStore catalog, RecommendationModel model, TimeProvider clock)
{
    /// <summary>Candidates ranked before the catalog is asked: enough that unsellable ones rarely leave a message short.</summary>
    public const int Candidates = 30;

    /// <summary>How far back a view or cart is still the customer's current interest; an order is never recommended again, however old.</summary>
    public const int RecentDays = 30;

    public async Task<IReadOnlyList<RecommendedProduct>> ForAsync(CustomerProfile customer, int count, CancellationToken cancellationToken)
    {
        if (count <= 0 || customer.ShopDomain is not { } shop)
        {
            return [];
        }

        var recentSince = clock.GetUtcNow() - TimeSpan.FromDays(RecentDays);
        var history = new List<Interaction>();
        await foreach (var evt in events.ListForCustomerAsync(customer.Key, ProductInteractions.Types, cancellationToken))
        {
            history.AddRange(ProductInteractions.Of(evt).Where(i => i.Kind == InteractionKind.Ordered || i.At >= recentSince));
        }

        // Ranked without the catalog first (the graph is read under its lock, the catalog is I/O), then filtered in rank order.
        var ranked = await model.ReadAsync(shop, graph => Recommender.For(history, graph, _ => true, Candidates), cancellationToken);
        var facts = await catalog.GetProductsAsync(customer.Key.Platform, shop, ranked.Select(r => r.ProductId).ToList(), cancellationToken);
        var shown = new List<RecommendedProduct>(count);
        foreach (var r in ranked)
        {
            if (shown.Count < count && facts.TryGetValue(r.ProductId, out var f) && f.Sellable && f is { Title: { } title, Url: { } url })
            {
                shown.Add(new RecommendedProduct(r.ProductId, title, url, f.ImageUrl, f.Price, f.Currency, r.Reason));
            }
        }

        return shown;
    }
}
