namespace Nudge.Core.Recommendations;

public enum RecommendationReason
{
    /// <summary>The customer viewed it and did not buy it.</summary>
    Viewed,

    /// <summary>The customer put it in a cart or checkout and did not buy it.</summary>
    Carted,

    /// <summary>Related to what the customer touched lately.</summary>
    Related,
}

public sealed record Recommendation(string ProductId, RecommendationReason Reason, double Score);

/// <summary>
/// What to show one customer: first the products they recently carted or viewed and did not buy (newest first,
/// carted before viewed), then the products most related to their recent ones, weighted toward the most recent. Never
/// a product they bought, never one the catalog says cannot be sold (unpublished, out of stock, unknown).
/// </summary>
public static class Recommender
{
    /// <summary>The customer's recent products the related ones are drawn from.</summary>
    public const int Seeds = 10;

    /// <summary>Related products considered per seed.</summary>
    public const int NeighboursPerSeed = 20;

    /// <param name="history">The customer's interactions, in any order.</param>
    /// <param name="sellable">Whether the shop can sell the product now (published, in stock).</param>
    /// <param name="touched">Include the carted and viewed products themselves (retargeting); false for related only.</param>
    public static IReadOnlyList<Recommendation> For(
        IEnumerable<Interaction> history, ItemGraph graph, Func<string, bool> sellable, int count, bool touched = true)
    {
        var newestFirst = history.OrderByDescending(i => i.At).ThenBy(i => i.ProductId, StringComparer.Ordinal).ToList();
        var bought = newestFirst.Where(i => i.Kind == InteractionKind.Ordered).Select(i => i.ProductId).ToHashSet(StringComparer.Ordinal);
        var chosen = new List<Recommendation>(count);
        var taken = new HashSet<string>(bought, StringComparer.Ordinal);

        if (touched)
        {
            foreach (var kind in new[] { InteractionKind.Carted, InteractionKind.Viewed })
            {
                foreach (var interaction in newestFirst.Where(i => i.Kind == kind))
                {
                    if (chosen.Count < count && sellable(interaction.ProductId) && taken.Add(interaction.ProductId))
                    {
                        chosen.Add(new Recommendation(interaction.ProductId, kind == InteractionKind.Carted ? RecommendationReason.Carted : RecommendationReason.Viewed, 1));
                    }
                }
            }
        }

        if (chosen.Count >= count)
        {
            return chosen;
        }

        // Each seed counts less the older it is (1, 1/2, 1/3, …): the latest interest leads.
        var seeds = newestFirst.Select(i => i.ProductId).Distinct(StringComparer.Ordinal).Take(Seeds).ToList();
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var rank = 0; rank < seeds.Count; rank++)
        {
            foreach (var related in graph.RelatedTo(seeds[rank], NeighboursPerSeed))
            {
                if (!taken.Contains(related.ProductId) && (touched || !seeds.Contains(related.ProductId, StringComparer.Ordinal)))
                {
                    scores[related.ProductId] = scores.GetValueOrDefault(related.ProductId) + related.Score / (rank + 1);
                }
            }
        }

        foreach (var (productId, score) in scores.OrderByDescending(s => s.Value).ThenBy(s => s.Key, StringComparer.Ordinal))
        {
            if (chosen.Count >= count)
            {
                break;
            }

            if (sellable(productId))
            {
                chosen.Add(new Recommendation(productId, RecommendationReason.Related, score));
            }
        }

        return chosen;
    }
}
