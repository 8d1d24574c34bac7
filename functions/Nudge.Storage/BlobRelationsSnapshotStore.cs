using Azure;
using Azure.Storage.Blobs;
using Nudge.Core.Recommendations;

namespace Nudge.Storage;

/// <summary>One block blob per shop (<c>relations/&lt;escaped shop&gt;.bin</c>), replaced whole: a reader sees the old snapshot or the new one.</summary>
public sealed class BlobRelationsSnapshotStore(BlobServiceClient service, StorageNames names) : IRelationsSnapshotStore
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(names.Recommendations);

    public async Task SaveAsync(string shopDomain, ItemGraph graph, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        graph.WriteTo(buffer);
        buffer.Position = 0;
        await Blob(shopDomain).UploadAsync(buffer, overwrite: true, cancellationToken);
    }

    public async Task<ItemGraph?> LoadAsync(string shopDomain, CancellationToken cancellationToken)
    {
        try
        {
            var content = await Blob(shopDomain).DownloadContentAsync(cancellationToken);
            using var stream = content.Value.Content.ToStream();
            return ItemGraph.ReadFrom(stream);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public Task DeleteAsync(string shopDomain, CancellationToken cancellationToken) =>
        Blob(shopDomain).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    private BlobClient Blob(string shopDomain) =>
        _container.GetBlobClient($"relations/{TableKey.Escape(ProductInteractions.ShopOf(shopDomain))}.bin");
}
