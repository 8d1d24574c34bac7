using System.Diagnostics;
using Nudge.Core.Recommendations;

namespace Nudge.Benchmarks;

/// <summary>
/// Offline evaluation of the recommendations on a synthetic shop whose customers have known preferences, and the
/// time to learn the item graph from a million events. Hit rate at 5 on each test customer's held-out last order,
/// against the most-popular baseline on the same data in the same run.
/// </summary>
public static class RecommendationRun
{
    public static void Run(int customers, int buildEvents, TextWriter output)
    {
        var shop = new SyntheticShop(seed: 7);
        var events = shop.Customers(customers).ToList();
        output.WriteLine($"synthetic shop            {SyntheticShop.Categories} categories × {SyntheticShop.ProductsPerCategory} products, {customers:N0} customers, {events.Count:N0} events");

        // A fifth of the customers are tested: their last order is held out with the session it was made in; the
        // graph learns from everything else.
        var byCustomer = events.GroupBy(e => e.CustomerId).ToList();
        var graph = new ItemGraph();
        var rawCounts = new ItemGraph(shrinkage: 0, popularityCorrection: 0);
        var halfCorrected = new ItemGraph(popularityCorrection: 0.5);
        var unshrunk = new ItemGraph(shrinkage: 0);
        var tests = new List<(List<Interaction> History, string Target)>();
        for (var i = 0; i < byCustomer.Count; i++)
        {
            var trail = byCustomer[i].OrderBy(e => e.At).ToList();
            var lastOrder = trail.LastOrDefault(e => e.Kind == InteractionKind.Ordered);
            var isTest = i % 5 == 0 && lastOrder != default && trail.Count(e => e.Kind == InteractionKind.Ordered) >= 2;
            var sessionStart = isTest ? SyntheticShop.SessionStart(lastOrder.At) : DateTimeOffset.MaxValue;
            var history = trail.Where(e => e.At < sessionStart).ToList();
            foreach (var interaction in history)
            {
                graph.Add(interaction);
                rawCounts.Add(interaction);
                halfCorrected.Add(interaction);
                unshrunk.Add(interaction);
            }

            if (isTest && history.Count > 0)
            {
                tests.Add((history, lastOrder.ProductId));
            }
        }

        var popular = graph.MostPopular(200);
        double Hits(Func<List<Interaction>, IEnumerable<string>> recommend) =>
            tests.Count(t => recommend(t.History).Take(5).Contains(t.Target)) / (double)tests.Count;
        IEnumerable<string> Popular(List<Interaction> history)
        {
            var bought = history.Where(i => i.Kind == InteractionKind.Ordered).Select(i => i.ProductId).ToHashSet();
            return popular.Where(p => !bought.Contains(p));
        }

        var baseline = Hits(Popular);
        var related = Hits(h => Recommender.For(h, graph, _ => true, 5, touched: false).Select(r => r.ProductId));
        var relatedRaw = Hits(h => Recommender.For(h, rawCounts, _ => true, 5, touched: false).Select(r => r.ProductId));
        var relatedHalf = Hits(h => Recommender.For(h, halfCorrected, _ => true, 5, touched: false).Select(r => r.ProductId));
        var relatedUnshrunk = Hits(h => Recommender.For(h, unshrunk, _ => true, 5, touched: false).Select(r => r.ProductId));
        var full = Hits(h => Recommender.For(h, graph, _ => true, 5).Select(r => r.ProductId));
        output.WriteLine($"test customers            {tests.Count:N0} (held out: each one's last order and its session)");
        output.WriteLine($"hit rate @5, most popular {baseline:P1}");
        output.WriteLine($"hit rate @5, related only {related:P1}  ({related / baseline:F2}x the baseline)");
        output.WriteLine($"  by raw co-occurrence    {relatedRaw:P1}  ({relatedRaw / baseline:F2}x; no popularity correction, no shrinkage)");
        output.WriteLine($"  half the correction     {relatedHalf:P1}  ({relatedHalf / baseline:F2}x; shared / (popularity product)^0.25)");
        output.WriteLine($"  cosine, not shrunk      {relatedUnshrunk:P1}  ({relatedUnshrunk / baseline:F2}x)");
        output.WriteLine($"hit rate @5, recommender  {full:P1}  ({full / baseline:F2}x the baseline; carted/viewed and not bought first, then related)");

        // Learning time: a million events into a fresh graph, against only reading them (the same loop, no graph).
        var many = shop.Customers(buildEvents / 12).Take(buildEvents).ToList();
        var read = Stopwatch.StartNew();
        long checksum = 0;
        foreach (var interaction in many)
        {
            checksum += interaction.ProductId.Length;
        }

        read.Stop();
        GC.Collect();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        var build = Stopwatch.StartNew();
        var big = new ItemGraph();
        foreach (var interaction in many)
        {
            big.Add(interaction);
        }

        build.Stop();
        var bytes = GC.GetTotalMemory(forceFullCollection: true) - before;
        var query = Stopwatch.StartNew();
        var sample = many.Where((_, i) => i % 1000 == 0).Select(i => i.ProductId).ToList();
        foreach (var productId in sample)
        {
            big.RelatedTo(productId, Recommender.NeighboursPerSeed);
        }

        query.Stop();
        output.WriteLine($"learn {many.Count:N0} events        {build.Elapsed.TotalSeconds:F2} s ({many.Count / build.Elapsed.TotalSeconds:N0} events/s; reading them alone {read.Elapsed.TotalMilliseconds:F0} ms, checksum {checksum % 10})");
        output.WriteLine($"graph                     {big.Products:N0} products, {big.Customers:N0} customers, {bytes / 1024.0 / 1024.0:F0} MiB");
        output.WriteLine($"related products          {query.Elapsed.TotalMilliseconds / sample.Count * 1000:F0} µs per product ({sample.Count:N0} looked up)");
        GC.KeepAlive(big);
    }
}

/// <summary>
/// A shop with known tastes: products in categories with a few best sellers each; every product has two complements
/// in other categories (a camera and its lens). Each customer prefers two categories; a session browses one of them
/// (or, after an order, the ordered product's complements), may cart a product and may order it. Seeded: the same
/// shop every run.
/// </summary>
public sealed class SyntheticShop
{
    public const int Categories = 40;
    public const int ProductsPerCategory = 25;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan SessionLength = TimeSpan.FromHours(1);

    private readonly int _seed;
    private readonly int[][] _complements;
    private readonly double[] _rankWeights;

    public SyntheticShop(int seed)
    {
        _seed = seed;
        var random = new Random(seed);
        _complements = Enumerable.Range(0, Categories * ProductsPerCategory).Select(p =>
            Enumerable.Range(0, 2).Select(_ => (((p / ProductsPerCategory) + 1 + random.Next(Categories - 1)) % Categories) * ProductsPerCategory + random.Next(ProductsPerCategory)).ToArray()).ToArray();
        _rankWeights = Enumerable.Range(0, ProductsPerCategory).Select(r => 1 / Math.Pow(r + 1, 0.9)).ToArray();
    }

    /// <summary>Sessions start on the hour; a session's events fall within its hour.</summary>
    public static DateTimeOffset SessionStart(DateTimeOffset at) => Start + TimeSpan.FromHours(Math.Floor((at - Start).TotalHours));

    public IEnumerable<Interaction> Customers(int count)
    {
        var random = new Random(_seed * 31 + count);
        for (var c = 0; c < count; c++)
        {
            var customer = $"c{c}";
            var favourite = random.Next(Categories);
            var second = (favourite + 1 + random.Next(Categories - 1)) % Categories;
            var sessions = 2 + random.Next(10);
            var hour = random.Next(24 * 30);
            int? lastOrder = null;
            for (var s = 0; s < sessions; s++)
            {
                hour += 1 + random.Next(24 * 7);
                var at = Start.AddHours(hour);
                var roll = random.NextDouble();
                List<int> viewed;
                if (lastOrder is { } ordered && roll < 0.35)
                {
                    viewed = [_complements[ordered][random.Next(2)]];
                    if (random.NextDouble() < 0.5)
                    {
                        viewed.Add(_complements[ordered][random.Next(2)]);
                    }
                }
                else
                {
                    var category = roll < 0.75 ? favourite : roll < 0.92 ? second : random.Next(Categories);
                    viewed = Enumerable.Range(0, 1 + random.Next(4)).Select(_ => category * ProductsPerCategory + Pick(random)).ToList();
                }

                var minute = 0;
                foreach (var product in viewed)
                {
                    yield return new Interaction(customer, Name(product), InteractionKind.Viewed, at.AddMinutes(minute++));
                }

                if (random.NextDouble() < 0.45)
                {
                    var carted = viewed[random.Next(viewed.Count)];
                    yield return new Interaction(customer, Name(carted), InteractionKind.Carted, at.AddMinutes(minute++));
                    if (random.NextDouble() < 0.6)
                    {
                        yield return new Interaction(customer, Name(carted), InteractionKind.Ordered, at.AddMinutes(minute));
                        lastOrder = carted;
                    }
                }
            }
        }
    }

    private int Pick(Random random)
    {
        var total = _rankWeights.Sum();
        var x = random.NextDouble() * total;
        for (var r = 0; r < _rankWeights.Length; r++)
        {
            x -= _rankWeights[r];
            if (x <= 0)
            {
                return r;
            }
        }

        return _rankWeights.Length - 1;
    }

    private static string Name(int product) => $"p{product}";
}
