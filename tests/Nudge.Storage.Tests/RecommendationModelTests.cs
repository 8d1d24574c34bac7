using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Recommendations;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// The relations snapshot port, one contract for the blob store on Azurite and the in-memory store handler tests use;
/// and the live model over the real events table: rebuilt from the stored events, loaded again by a restarted app,
/// taught by events as they arrive.
/// </summary>
public class RecommendationModelTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 1, 0, 0, TimeSpan.Zero);
    private const string Shop = "demo.myshopify.com";

    public static TheoryData<string> Stores() => new() { "blob", "in-memory" };

    private static async Task<IRelationsSnapshotStore> StoreAsync(string kind) => kind switch
    {
        "blob" => await BlobStoreAsync(),
        _ => new InMemoryRelationsSnapshotStore(),
    };

    private static async Task<BlobRelationsSnapshotStore> BlobStoreAsync()
    {
        var p = await Pipeline.CreateAsync();
        return new BlobRelationsSnapshotStore(p.Clients.Blobs, p.Names);
    }

    private static ItemGraph CameraShop()
    {
        var graph = new ItemGraph();
        for (var c = 0; c < 6; c++)
        {
            graph.Add(new Interaction($"c{c}", "camera", InteractionKind.Viewed, T0));
            graph.Add(new Interaction($"c{c}", c < 4 ? "lens" : "tripod", InteractionKind.Carted, T0.AddMinutes(1)));
        }

        return graph;
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Snapshot_SavedThenLoaded_RelatesAndLearnsOnAsTheOriginal(string kind)
    {
        var store = await StoreAsync(kind);
        var original = CameraShop();

        await store.SaveAsync("Demo.myshopify.com", original, CancellationToken.None);
        var loaded = (await store.LoadAsync(Shop, CancellationToken.None))!;
        foreach (var graph in new[] { original, loaded })
        {
            graph.Add(new Interaction("c0", "tripod", InteractionKind.Ordered, T0.AddMinutes(2))); // continues c0's trail
        }

        Assert.Equal(original.RelatedTo("camera", 5), loaded.RelatedTo("camera", 5));
        Assert.Equal((original.Products, original.Customers, original.Interactions), (loaded.Products, loaded.Customers, loaded.Interactions));
        Assert.Null(await store.LoadAsync("other.myshopify.com", CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Snapshot_Deleted_IsGoneAndDeletingAgainIsHarmless(string kind)
    {
        var store = await StoreAsync(kind);
        await store.SaveAsync(Shop, CameraShop(), CancellationToken.None);

        await store.DeleteAsync("DEMO.myshopify.com", CancellationToken.None);
        await store.DeleteAsync(Shop, CancellationToken.None);

        Assert.Null(await store.LoadAsync(Shop, CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task Snapshot_SavedAgain_ReplacesTheOldOne(string kind)
    {
        var store = await StoreAsync(kind);
        await store.SaveAsync(Shop, CameraShop(), CancellationToken.None);

        await store.SaveAsync(Shop, new ItemGraph(), CancellationToken.None);

        Assert.Equal(0, (await store.LoadAsync(Shop, CancellationToken.None))!.Products);
    }

    private static CustomerEvent Touch(string customer, string type, string product, int minute) =>
        CustomerEvent.Of($"shopify-{customer}-{type}-{product}", new CustomerKey("shopify", customer), type, T0.AddMinutes(minute), Shop, product) with
        {
            Items = [new LineItem(product, null, 1, null, null)],
        };

    [Fact]
    public async Task Rebuild_FromTheEventsTable_SurvivesARestartAndLearnsNewEvents()
    {
        var p = await Pipeline.CreateAsync();
        var snapshots = new BlobRelationsSnapshotStore(p.Clients.Blobs, p.Names);
        for (var c = 0; c < 4; c++)
        {
            await p.Events.TryAddAsync(Touch($"c{c}", EventTypes.ProductViewed, "camera", 0), CancellationToken.None);
            await p.Events.TryAddAsync(Touch($"c{c}", EventTypes.OrderPlaced, "lens", 1), CancellationToken.None);
        }

        await p.Events.TryAddAsync(Pipeline.Signup("c9"), CancellationToken.None); // no products: teaches nothing
        var rebuilt = await new RecommendationModel(snapshots, TimeProvider.System).RebuildAsync(p.Events, CancellationToken.None);
        var restarted = new RecommendationModel(snapshots, TimeProvider.System); // a new process: only the snapshot
        var afterRestart = await restarted.ReadAsync(Shop, g => g.RelatedTo("camera", 5), CancellationToken.None);
        await restarted.LearnAsync(Touch("c5", EventTypes.ProductViewed, "camera", 2), CancellationToken.None);
        await restarted.LearnAsync(Touch("c5", EventTypes.CartUpdated, "strap", 3), CancellationToken.None);

        Assert.Equal(1, rebuilt);
        Assert.Equal(["lens"], afterRestart.Select(r => r.ProductId));
        Assert.Equal(["lens", "strap"], (await restarted.ReadAsync("DEMO.myshopify.com", g => g.RelatedTo("camera", 5), CancellationToken.None)).Select(r => r.ProductId));
    }

    [Fact]
    public async Task CustomerRecommendations_CartedThenViewedThenRelated_NeverBoughtUnpublishedOrSoldOut()
    {
        var p = await Pipeline.CreateAsync();
        var catalog = new TableCatalogStore(p.Clients.Tables, p.Names);
        var model = new RecommendationModel(new InMemoryRelationsSnapshotStore(), TimeProvider.System);
        async Task AddAsync(CustomerEvent evt)
        {
            await p.Events.TryAddAsync(evt, CancellationToken.None);
            await model.LearnAsync(evt, CancellationToken.None);
        }

        for (var c = 0; c < 3; c++) // others who viewed the camera looked at the lens, the strap and the sold-out bag too
        {
            await AddAsync(Touch($"o{c}", EventTypes.ProductViewed, "camera", 0));
            foreach (var related in new[] { "lens", "strap", "bag", "hidden" })
            {
                await AddAsync(Touch($"o{c}", EventTypes.ProductViewed, related, 1));
            }
        }

        await AddAsync(Touch("me", EventTypes.ProductViewed, "camera", 5));
        await AddAsync(Touch("me", EventTypes.CartUpdated, "tripod", 6));
        await AddAsync(Touch("me", EventTypes.ProductViewed, "strap", 7));
        await AddAsync(Touch("me", EventTypes.OrderPlaced, "strap", 8)); // just bought
        foreach (var (id, published, inStock) in new[] { ("camera", true, true), ("tripod", true, true), ("lens", true, true), ("strap", true, true), ("bag", true, false), ("hidden", false, true) })
        {
            await catalog.ApplyAsync(new Core.Ingest.CatalogUpdate("shopify", Shop, id, T0, [], new Core.Ingest.ProductFacts(id, $"https://{Shop}/products/{id}", null, 1000m, null, published, inStock)), CancellationToken.None);
        }

        var me = new CustomerProfile { Key = new CustomerKey("shopify", "me"), ShopDomain = Shop };
        var shown = await new CustomerRecommendations(p.Events, catalog, model, new ManualClock(T0.AddDays(2))).ForAsync(me, 5, CancellationToken.None);
        var monthsLater = await new CustomerRecommendations(p.Events, catalog, model, new ManualClock(T0.AddDays(CustomerRecommendations.RecentDays + 1))).ForAsync(me, 5, CancellationToken.None);

        Assert.Equal(["tripod", "camera", "lens"], shown.Select(r => r.ProductId));
        Assert.DoesNotContain(monthsLater, r => r.Reason != RecommendationReason.Related); // old views and carts are no current interest
        Assert.DoesNotContain(monthsLater, r => r.ProductId == "strap"); // an old order still is never recommended
        Assert.Equal([RecommendationReason.Carted, RecommendationReason.Viewed, RecommendationReason.Related], shown.Select(r => r.Reason));
        Assert.Equal($"https://{Shop}/products/lens", shown[2].Url);
    }

    [Fact]
    public async Task Model_OlderThanTheRebuildInterval_LoadsTheSnapshotAnotherInstanceSaved_AndForgetsErasures()
    {
        var store = new InMemoryRelationsSnapshotStore();
        var clock = new ManualClock(T0);
        var model = new RecommendationModel(store, clock);
        await model.LearnAsync(Touch("c1", EventTypes.ProductViewed, "camera", 0), CancellationToken.None);
        await store.SaveAsync(Shop, CameraShop(), CancellationToken.None); // another instance's rebuild

        var before = await model.ReadAsync(Shop, g => g.Customers, CancellationToken.None);
        clock.Now += RecommendationModel.ReloadAfter + TimeSpan.FromSeconds(1);
        var after = await model.ReadAsync(Shop, g => g.RelatedTo("camera", 5).Count, CancellationToken.None);
        await model.ForgetShopAsync(Shop, CancellationToken.None);

        Assert.Equal((1, 2), (before, after));
        Assert.Null(await store.LoadAsync(Shop, CancellationToken.None));
        Assert.Equal(0, await model.ReadAsync(Shop, g => g.Products, CancellationToken.None));
    }

    [Fact]
    public async Task ForgetCustomer_TheirNextProduct_PairsWithNothingTheyTouchedBefore()
    {
        var model = new RecommendationModel(new InMemoryRelationsSnapshotStore(), TimeProvider.System);
        var kept = new RecommendationModel(new InMemoryRelationsSnapshotStore(), TimeProvider.System);
        foreach (var m in new[] { model, kept })
        {
            await m.LearnAsync(Touch("c1", EventTypes.ProductViewed, "camera", 0), CancellationToken.None);
        }

        await model.ForgetCustomerAsync(new CustomerKey("shopify", "c1"));
        foreach (var m in new[] { model, kept })
        {
            await m.LearnAsync(Touch("c1", EventTypes.ProductViewed, "lens", 1), CancellationToken.None);
        }

        Assert.Empty(await model.ReadAsync(Shop, g => g.RelatedTo("camera", 5), CancellationToken.None));
        Assert.Single(await kept.ReadAsync(Shop, g => g.RelatedTo("camera", 5), CancellationToken.None));
    }

    [Fact]
    public async Task Model_UnreadableSnapshot_StartsEmptyAndKeepsLearning()
    {
        var p = await Pipeline.CreateAsync();
        await p.Clients.Blobs.GetBlobContainerClient(p.Names.Recommendations).GetBlobClient("relations/demo.myshopify.com.bin")
            .UploadAsync(BinaryData.FromString("garbage"), overwrite: true);
        var model = new RecommendationModel(new BlobRelationsSnapshotStore(p.Clients.Blobs, p.Names), TimeProvider.System);

        await model.LearnAsync(Touch("c1", EventTypes.ProductViewed, "camera", 0), CancellationToken.None);
        await model.LearnAsync(Touch("c1", EventTypes.ProductViewed, "lens", 1), CancellationToken.None);

        Assert.Single(await model.ReadAsync(Shop, g => g.RelatedTo("camera", 5), CancellationToken.None));
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
