using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Segments;

namespace Nudge.Storage.Tests;

/// <summary>The segment index over the profile table on Azurite: rebuilt after a restart, and current with another instance's writes.</summary>
public class SegmentIndexStorageTests
{
    private static readonly Segment Rich = new() { Id = "rich", Condition = Condition.Is("profile.points", "gte", "2000") };

    private static CustomerProfile Customer(int id, long points) => new() { Key = new CustomerKey("shopify", $"{id}"), PointsBalance = points };

    private static int Count(SegmentIndex index) => index.Count(Rich, [Rich], Pipeline.Morning, Pipeline.Seoul);

    [Fact]
    public async Task OtherInstancesWrites_SeenAfterARefresh_AndARestartRebuildsFromStorage()
    {
        var p = await Pipeline.CreateAsync();
        var (indexA, indexB) = (new SegmentIndex(), new SegmentIndex());
        var instanceA = new IndexedProfileStore(p.Profiles, indexA);
        var instanceB = new IndexedProfileStore(p.Profiles, indexB);
        var loaderB = new SegmentIndexLoader(p.Profiles, indexB, TimeProvider.System);
        await instanceB.TrySaveAsync(Customer(1, 5000), null, CancellationToken.None);
        await loaderB.LoadAsync(CancellationToken.None);

        await instanceA.TrySaveAsync(Customer(2, 3000), null, CancellationToken.None);
        await instanceA.TrySaveAsync(Customer(3, 10), null, CancellationToken.None);
        var current = (await p.Profiles.GetAsync(new CustomerKey("shopify", "1"), CancellationToken.None))!;
        await instanceA.TrySaveAsync(Customer(1, 100), current.Version, CancellationToken.None);
        var beforeRefresh = Count(indexB);
        var refreshed = await loaderB.RefreshAsync(TimeSpan.Zero, CancellationToken.None);
        var afterRefresh = Count(indexB);
        var restarted = new SegmentIndex();
        await new SegmentIndexLoader(p.Profiles, restarted, TimeProvider.System).LoadAsync(CancellationToken.None);

        Assert.Equal((1, 1), (Count(indexA), beforeRefresh)); // each instance sees its own writes at once
        Assert.True(refreshed >= 3);
        Assert.Equal(1, afterRefresh);
        Assert.Equal((1, 3), (Count(restarted), restarted.Customers));
    }
}
