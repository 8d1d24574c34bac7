using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;
using Nudge.Testing;

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

    [Fact]
    public async Task RequestDuringASlowRefresh_AnswersFromTheIndexAsItStands_TheRefreshFinishesBehindIt()
    {
        var p = await Pipeline.CreateAsync();
        var index = new SegmentIndex();
        var table = new HeldChangeScan(p.Profiles);
        var loader = new SegmentIndexLoader(table, index, TimeProvider.System);
        await loader.LoadAsync(CancellationToken.None);
        await new IndexedProfileStore(p.Profiles, new SegmentIndex()).TrySaveAsync(Customer(2, 3000), null, CancellationToken.None); // another instance

        // The scan by save time is held, as a large table's would take long: the request answers without it.
        await loader.RefreshForRequestAsync(TimeSpan.Zero, TimeSpan.FromMilliseconds(100), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
        var answeredWith = Count(index);
        var scanStillHeld = !table.Released;
        table.Release();
        var caughtUp = await TestStorage.EventuallyAsync(() => Task.FromResult(Count(index)), n => n == 1, TimeSpan.FromSeconds(30), "the refresh to finish behind the answer");

        Assert.Equal((0, true, 1), (answeredWith, scanStillHeld, caughtUp));
    }

    /// <summary>The profile table, with its scan by save time held until released.</summary>
    private sealed class HeldChangeScan(IProfileStore table) : IProfileStore
    {
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Released => _release.Task.IsCompleted;

        public void Release() => _release.TrySetResult();

        public Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken) => table.GetAsync(customer, cancellationToken);

        public Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken) => table.TrySaveAsync(profile, expectedVersion, cancellationToken);

        public Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken) => table.DeleteAsync(customer, cancellationToken);

        public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
            table.ListCustomersOfShopAsync(platform, shopDomain, cancellationToken);

        public IAsyncEnumerable<CustomerProfile> ListAsync(CancellationToken cancellationToken) => table.ListAsync(cancellationToken);

        public async IAsyncEnumerable<(CustomerProfile Profile, DateTimeOffset SavedAt)> ListChangedSinceAsync(
            DateTimeOffset since, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await _release.Task.WaitAsync(cancellationToken);
            await foreach (var changed in table.ListChangedSinceAsync(since, cancellationToken))
            {
                yield return changed;
            }
        }
    }
}
