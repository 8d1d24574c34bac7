using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Keeps every webhook body exactly as received, for replay and audit. Same delivery id, same blob.</summary>
public sealed class BlobRawPayloadStore(BlobServiceClient service, StorageNames names) : IRawPayloadStore
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(names.RawPayloads);

    public async Task SaveAsync(string platform, string shopDomain, string deliveryId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient($"{platform}/{TableKey.Escape(shopDomain)}/{TableKey.Escape(deliveryId)}.json");
        await blob.UploadAsync(BinaryData.FromBytes(body), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, cancellationToken);
    }
}
