using Nudge.Core.Recommendations;

namespace Nudge.Core.Tests;

public class RecommendationTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 10, 0, 0, TimeSpan.Zero);

    private static Interaction Touch(string customer, string product, InteractionKind kind = InteractionKind.Viewed, int minute = 0) =>
        new(customer, product, kind, T0.AddMinutes(minute));

    /// <summary>Everyone looks at the best seller; camera buyers also look at its lens.</summary>
    private static ItemGraph CameraShop()
    {
        var graph = new ItemGraph();
        for (var c = 0; c < 30; c++)
        {
            graph.Add(Touch($"c{c}", "bestseller"));
            if (c < 10)
            {
                graph.Add(Touch($"c{c}", "camera", minute: 1));
                graph.Add(Touch($"c{c}", "lens", minute: 2));
            }
        }

        graph.Add(Touch("odd", "camera"));
        graph.Add(Touch("odd", "umbrella", minute: 1));
        return graph;
    }

    [Fact]
    public void RelatedTo_PrefersWhatTheSameCustomersTouched_OverWhatEveryoneTouches()
    {
        var related = CameraShop().RelatedTo("camera", 3);

        Assert.Equal(["lens", "bestseller", "umbrella"], related.Select(r => r.ProductId));
        Assert.True(related[0].Score > 1.5 * related[1].Score); // as many shared, but the best seller is shared with everyone
        Assert.True(related[2].Score < related[1].Score); // one customer's odd pair is shrunk away
    }

    [Fact]
    public void Add_RepeatedTouchesOfOneProductByOneCustomer_CountOnce()
    {
        var once = new ItemGraph();
        var often = new ItemGraph();
        foreach (var graph in new[] { once, often })
        {
            graph.Add(Touch("a", "camera"));
            graph.Add(Touch("a", "lens", minute: 1));
        }

        often.Add(Touch("a", "camera", InteractionKind.Carted, 2));
        often.Add(Touch("a", "camera", InteractionKind.Ordered, 3));

        Assert.Equal(once.RelatedTo("camera", 5), often.RelatedTo("camera", 5));
        Assert.Equal(1, often.Popularity("camera"));
    }

    [Fact]
    public void Graph_IsAFunctionOfItsEvents_TheSameEventsMakeTheSameRelations()
    {
        var random = new Random(11);
        var events = Enumerable.Range(0, 5_000).Select(i => Touch($"c{random.Next(300)}", $"p{random.Next(80)}", (InteractionKind)random.Next(3), i)).ToList();
        var first = new ItemGraph();
        var second = new ItemGraph();
        events.ForEach(first.Add);
        events.ForEach(second.Add);

        for (var p = 0; p < 80; p++)
        {
            Assert.Equal(first.RelatedTo($"p{p}", 10), second.RelatedTo($"p{p}", 10));
        }
    }

    [Fact]
    public void For_CartedThenViewedNotBought_ThenRelated_NeverBoughtNorUnsellable()
    {
        var graph = CameraShop();
        var history = new[]
        {
            Touch("me", "camera", InteractionKind.Viewed, 0),
            Touch("me", "camera", InteractionKind.Ordered, 1),
            Touch("me", "tripod", InteractionKind.Viewed, 2),
            Touch("me", "bag", InteractionKind.Carted, 3),
            Touch("me", "strap", InteractionKind.Viewed, 4),
            Touch("me", "discontinued", InteractionKind.Viewed, 5),
        };

        var picks = Recommender.For(history, graph, sellable: p => p != "discontinued" && p != "umbrella", count: 5);

        Assert.Equal(["bag", "strap", "tripod", "lens", "bestseller"], picks.Select(p => p.ProductId));
        Assert.Equal([RecommendationReason.Carted, RecommendationReason.Viewed, RecommendationReason.Viewed, RecommendationReason.Related, RecommendationReason.Related], picks.Select(p => p.Reason));
    }

    [Fact]
    public void For_FewerSellableProductsThanAsked_GivesFewer()
    {
        var picks = Recommender.For([Touch("me", "camera")], CameraShop(), sellable: p => p == "lens", count: 5);

        Assert.Equal(["lens"], picks.Select(p => p.ProductId));
    }

    [Fact]
    public void For_CustomerWithNoHistory_GetsNothing_TheCallerFallsBackToWhatItKnows()
    {
        Assert.Empty(Recommender.For([], CameraShop(), _ => true, 5));
    }

    [Theory]
    [InlineData(0)]   // empty
    [InlineData(3)]   // cut inside the tag
    [InlineData(40)]  // cut inside the products
    public void ReadFrom_TruncatedSnapshot_IsRefusedAsInvalidData(int keep)
    {
        using var full = new MemoryStream();
        CameraShop().WriteTo(full);

        Assert.Throws<InvalidDataException>(() => ItemGraph.ReadFrom(new MemoryStream(full.ToArray()[..keep])));
    }

    [Fact]
    public void ReadFrom_BytesThatAreNoSnapshot_AreRefusedAsInvalidData() =>
        Assert.Throws<InvalidDataException>(() => ItemGraph.ReadFrom(new MemoryStream("not a graph at all"u8.ToArray())));
}
