using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>
/// Keeps every webhook body exactly as received, for replay and audit, filed as
/// <c>{platform}/{shop}/{customer}/{delivery}.json</c> so a customer's erasure finds them. Same delivery id, same blob.
/// </summary>
public sealed class BlobRawPayloadStore(BlobServiceClient service, StorageNames names) : IRawPayloadStore
{
    /// <summary>The folder of payloads that are about no customer (catalog changes).</summary>
    private const string NoCustomer = "_";

    private readonly BlobContainerClient _container = service.GetBlobContainerClient(names.RawPayloads);

    public async Task SaveAsync(string platform, string shopDomain, string? customerId, string deliveryId, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient($"{Prefix(platform, shopDomain, customerId ?? NoCustomer)}{TableKey.Escape(deliveryId)}.json");
        await blob.UploadAsync(BinaryData.FromBytes(body), new BlobUploadOptions
        {
            HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
        }, cancellationToken);
    }

    public async Task<int> DeleteAsync(string platform, string shopDomain, string? customerId, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var blob in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = Prefix(platform, shopDomain, customerId) }, cancellationToken))
        {
            await _container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: cancellationToken);
            count++;
        }

        return count;
    }

    private static string Prefix(string platform, string shopDomain, string? customerId) =>
        customerId is null ? $"{platform}/{TableKey.Escape(shopDomain)}/" : $"{platform}/{TableKey.Escape(shopDomain)}/{TableKey.Escape(customerId)}/";
}
