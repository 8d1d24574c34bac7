using Nudge.Core.Ingest;

namespace Nudge.Storage.Tests;

/// <summary>The catalog's product facts on Azurite: kept newest-wins beside the variant prices, read back by product.</summary>
public class CatalogStoreTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static CatalogUpdate Update(string productId, DateTimeOffset at, ProductFacts facts) =>
        new("woocommerce", "s.example", productId, at, [new VariantPrice(productId, facts.Price ?? 0, null)], facts);

    [Fact]
    public async Task GetProducts_AfterUpdates_AnswersTheNewestFactsOfKnownProductsOnly()
    {
        var p = await Pipeline.CreateAsync();
        var catalog = new TableCatalogStore(p.Clients.Tables, p.Names);
        var first = new ProductFacts("Tea cup", "https://s.example/cup", "https://s.example/cup.jpg", 9000m, null, Published: true, InStock: true);
        var soldOut = first with { Price = 8000m, InStock = false };

        await catalog.ApplyAsync(Update("7", Noon, first), CancellationToken.None);
        var drops = await catalog.ApplyAsync(Update("7", Noon.AddHours(1), soldOut), CancellationToken.None);
        await catalog.ApplyAsync(Update("7", Noon.AddMinutes(30), first with { Title = "stale" }), CancellationToken.None); // an older retry
        var found = await catalog.GetProductsAsync("woocommerce", "S.example", ["7", "8"], CancellationToken.None);

        Assert.Single(drops); // the variant row (same id as the product in WooCommerce) is kept apart from the product row
        Assert.Equal(soldOut, Assert.Single(found).Value);
        Assert.Empty(await catalog.GetProductsAsync("shopify", "s.example", ["7"], CancellationToken.None)); // another shop's catalog
    }
}
