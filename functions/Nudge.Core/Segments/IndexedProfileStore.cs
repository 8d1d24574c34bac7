using System.Runtime.CompilerServices;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Segments;

/// <summary>
/// The profile store with the segment index kept current: every profile this instance saves or deletes (webhooks,
/// imports, erasures) updates its row once the store has taken the write.
/// </summary>
public sealed class IndexedProfileStore(IProfileStore inner, SegmentIndex index) : IProfileStore
{
    public Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken) => inner.GetAsync(customer, cancellationToken);

    public async Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken)
    {
        var saved = await inner.TrySaveAsync(profile, expectedVersion, cancellationToken);
        if (saved)
        {
            index.Upsert(profile);
        }

        return saved;
    }

    public async Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var deleted = await inner.DeleteAsync(customer, cancellationToken);
        index.Remove(customer);
        return deleted;
    }

    public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        inner.ListCustomersOfShopAsync(platform, shopDomain, cancellationToken);

    public IAsyncEnumerable<CustomerProfile> ListAsync(CancellationToken cancellationToken) => inner.ListAsync(cancellationToken);

    public IAsyncEnumerable<(CustomerProfile Profile, DateTimeOffset SavedAt)> ListChangedSinceAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        inner.ListChangedSinceAsync(since, cancellationToken);
}

/// <summary>
/// Fills the index from storage and keeps it current with the writes of other instances: a load when a caller first
/// needs it (<see cref="WaitLoadedAsync"/>; an instance that only runs queue work never reads the profile table for it;
/// rows this instance writes meanwhile win), then, whenever a caller asks and the last refresh is older than the interval, the
/// profiles stored since a watermark (the store's own save times, with a margin for clock skew between writers).
/// Deletions by other instances are seen at the next load.
/// </summary>
public sealed class SegmentIndexLoader(IProfileStore store, SegmentIndex index, TimeProvider clock)
{
    /// <summary>Writes by other instances older than this may not be visible yet to a query by save time (clock skew, replication).</summary>
    public static readonly TimeSpan SkewMargin = TimeSpan.FromMinutes(1);

    /// <summary>How stale the rows of other instances' writes may be when a size or member list is answered.</summary>
    public static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long a size or member page waits for a refresh before it answers from the index as it stands.</summary>
    public static readonly TimeSpan RequestWait = TimeSpan.FromMilliseconds(500);

    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _demanded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first load is done.</summary>
    public Task Loaded => _loaded.Task;

    /// <summary>Completes when a caller first needs the index: the host's loader starts the load then.</summary>
    public Task Demanded => _demanded.Task;

    /// <summary>Asks for the index (the first call starts its load) and waits up to <paramref name="wait"/> for it; whether it is loaded.</summary>
    public async Task<bool> WaitLoadedAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        _demanded.TrySetResult();
        return index.IsLoaded || await Task.WhenAny(Loaded, Task.Delay(wait, cancellationToken)) == Loaded;
    }

    private DateTimeOffset _watermark = DateTimeOffset.MinValue;
    private DateTimeOffset _lastRefresh = DateTimeOffset.MinValue;

    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        var started = clock.GetUtcNow();
        await foreach (var profile in store.ListAsync(cancellationToken))
        {
            index.AddIfAbsent(profile);
        }

        _watermark = started - SkewMargin;
        _lastRefresh = clock.GetUtcNow();
        index.MarkLoaded();
        _loaded.TrySetResult();
    }

    private readonly object _backgroundGate = new();
    private Task _background = Task.CompletedTask;

    /// <summary>
    /// For a request: starts a refresh if one is due and none runs, and waits for it at most <paramref name="wait"/>.
    /// The refresh filters the profile table on save time, which the service answers by scanning the table: on a large
    /// table that outlasts a request's budget (a size over a million profiles answers in under a second). The answer
    /// then comes from the index as it stands (every save through this instance is in it already) while the refresh
    /// finishes behind it. A refresh that failed behind an earlier answer is started again.
    /// </summary>
    public async Task RefreshForRequestAsync(TimeSpan interval, TimeSpan wait, CancellationToken cancellationToken)
    {
        Task refresh;
        lock (_backgroundGate)
        {
            if (_background.IsCompleted)
            {
                _ = _background.Exception; // observed: a failure behind an earlier answer is retried now, not lost at finalization
                _background = RefreshAsync(interval, CancellationToken.None); // not the request's: the refresh outlives it
            }

            refresh = _background;
        }

        if (await Task.WhenAny(refresh, Task.Delay(wait, cancellationToken)) == refresh)
        {
            await refresh; // a refresh that failed within the wait fails the request, as it did when the request waited for it whole
        }
    }

    /// <summary>Applies the profiles saved since the watermark if the last refresh is older than <paramref name="interval"/>; returns how many.</summary>
    public async Task<int> RefreshAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        if (!index.IsLoaded || clock.GetUtcNow() - _lastRefresh < interval || !await _refreshing.WaitAsync(0, cancellationToken))
        {
            return 0;
        }

        try
        {
            var started = clock.GetUtcNow();
            var count = 0;
            await foreach (var (profile, _) in store.ListChangedSinceAsync(_watermark, cancellationToken))
            {
                index.Upsert(profile);
                count++;
            }

            _watermark = started - SkewMargin;
            _lastRefresh = clock.GetUtcNow();
            return count;
        }
        finally
        {
            _refreshing.Release();
        }
    }
}
