using System.Collections.Concurrent;
using Nudge.Core.Recommendations;

namespace Nudge.Testing;

/// <summary>Snapshots as bytes in memory (through the same binary form as the blobs), for handler tests; held to the blob store by one contract suite.</summary>
public sealed class InMemoryRelationsSnapshotStore : IRelationsSnapshotStore
{
    private readonly ConcurrentDictionary<string, byte[]> _snapshots = new(StringComparer.Ordinal);

    public Task SaveAsync(string shopDomain, ItemGraph graph, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        graph.WriteTo(buffer);
        _snapshots[ProductInteractions.ShopOf(shopDomain)] = buffer.ToArray();
        return Task.CompletedTask;
    }

    public Task DeleteAsync(string shopDomain, CancellationToken cancellationToken)
    {
        _snapshots.TryRemove(ProductInteractions.ShopOf(shopDomain), out _);
        return Task.CompletedTask;
    }

    public Task<ItemGraph?> LoadAsync(string shopDomain, CancellationToken cancellationToken) =>
        Task.FromResult(_snapshots.TryGetValue(ProductInteractions.ShopOf(shopDomain), out var bytes) ? ItemGraph.ReadFrom(new MemoryStream(bytes)) : null);
}
