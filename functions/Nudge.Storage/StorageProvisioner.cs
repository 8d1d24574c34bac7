using Nudge.Core.Delivery;

namespace Nudge.Storage;

/// <summary>Creates the tables, queues and containers the app uses, if missing. Idempotent; runs at start-up.</summary>
public sealed class StorageProvisioner(StorageClients clients, StorageNames names)
{
    public IEnumerable<string> QueueNames =>
        [.. StorageNames.PipelineQueues, .. ChannelNames.All.Select(c => StorageNames.DeliveryQueuePrefix + c)];

    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var tasks = new List<Task>();
        tasks.AddRange(names.AllTables.Select(t => clients.Tables.CreateTableIfNotExistsAsync(t, cancellationToken)));
        foreach (var queue in QueueNames)
        {
            tasks.Add(clients.Queues.GetQueueClient(names.Queue(queue)).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
            tasks.Add(clients.Queues.GetQueueClient(names.Queue(StorageNames.PoisonOf(queue))).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        }

        tasks.Add(clients.Blobs.GetBlobContainerClient(names.RawPayloads).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        tasks.Add(clients.Blobs.GetBlobContainerClient(names.ImportFiles).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        tasks.Add(clients.Blobs.GetBlobContainerClient(names.Recommendations).CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        await Task.WhenAll(tasks);
    }
}
