using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Specialized;
using Microsoft.Extensions.Configuration;

namespace Nudge.Storage;

/// <summary>
/// The storage service clients, built from the same settings the Functions host reads for a binding connection:
/// a connection string in <c>AzureWebJobsStorage</c> (Azurite locally), or identity-based
/// <c>AzureWebJobsStorage__tableServiceUri</c> / <c>__queueServiceUri</c> / <c>__blobServiceUri</c> with
/// <c>__credential=managedidentity</c> and <c>__clientId</c> in Azure. Same code path either way.
/// </summary>
public sealed class StorageClients
{
    public StorageClients(TableServiceClient tables, QueueServiceClient queues, BlobServiceClient blobs, StorageAccount? account = null)
    {
        Tables = tables;
        Queues = queues;
        Blobs = blobs;
        Account = account;
    }

    /// <summary>How the clients reach the account, for other clients of it (the local task hub's backend); null when built from clients.</summary>
    public StorageAccount? Account { get; }

    public TableServiceClient Tables { get; }
    public QueueServiceClient Queues { get; }
    public BlobServiceClient Blobs { get; }

    /// <param name="observer">An extra pipeline policy on every client (benchmarks count storage operations with it).</param>
    public static StorageClients FromConfiguration(IConfiguration configuration, string connectionName, HttpPipelinePolicy? observer = null)
    {
        T With<T>(T options) where T : ClientOptions
        {
            if (observer is not null)
            {
                options.AddPolicy(observer, HttpPipelinePosition.PerCall);
            }

            return options;
        }

        // Queue messages are base64, as the Functions host's queue trigger expects by default.
        var queueOptions = With(new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });

        // A message another producer wrote without base64 must not fail the whole receive (and with it the messages
        // received beside it): it goes to its queue's poison queue, as the Functions host moves it, to be looked at;
        // one already on a poison queue stays there.
        queueOptions.MessageDecodingFailed += PoisonUndecodableAsync;
        var tableOptions = With(new TableClientOptions());
        var blobOptions = With(new BlobClientOptions());
        var connectionString = configuration[connectionName];
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var tables = new TableServiceClient(connectionString, tableOptions);
            var queues = new QueueServiceClient(connectionString, queueOptions);
            var blobs = new BlobServiceClient(connectionString, blobOptions);
            return new StorageClients(tables, queues, blobs, new StorageAccount(connectionString, blobs.Uri, queues.Uri, tables.Uri, null, observer));
        }

        var section = configuration.GetSection(connectionName);
        var credential = CredentialFor(section);
        var accountName = section["accountName"];
        Uri ServiceUri(string key, string service) =>
            section[key] is { Length: > 0 } uri ? new Uri(uri)
            : accountName is { Length: > 0 } ? new Uri($"https://{accountName}.{service}.core.windows.net")
            : throw new InvalidOperationException(
                $"Storage is not configured: set '{connectionName}' to a connection string, or '{connectionName}__{key}' (or '{connectionName}__accountName') for an identity-based connection.");

        var (blob, queue, table) = (ServiceUri("blobServiceUri", "blob"), ServiceUri("queueServiceUri", "queue"), ServiceUri("tableServiceUri", "table"));
        return new StorageClients(
            new TableServiceClient(table, credential, tableOptions),
            new QueueServiceClient(queue, credential, queueOptions),
            new BlobServiceClient(blob, credential, blobOptions),
            new StorageAccount(null, blob, queue, table, credential, observer));
    }

    /// <summary>The identity an identity-based connection section names (<c>__credential</c>, <c>__clientId</c>); also the Service Bus connection's.</summary>
    public static TokenCredential CredentialFor(IConfigurationSection section)
    {
        var clientId = section["clientId"];
        if (string.Equals(section["credential"], "managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrWhiteSpace(clientId)
                ? new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned)
                : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId));
        }

        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
    }

    private static async Task PoisonUndecodableAsync(QueueMessageDecodingFailedEventArgs args)
    {
        if (args.ReceivedMessage is not { } message || args.Queue.Name.EndsWith(StorageNames.PoisonOf(""), StringComparison.Ordinal))
        {
            return;
        }

        var poison = args.Queue.GetParentQueueServiceClient().GetQueueClient(StorageNames.PoisonOf(args.Queue.Name));
        await poison.SendMessageAsync(message.Body, TimeSpan.Zero, TimeSpan.FromSeconds(-1), args.CancellationToken);
        await args.Queue.DeleteMessageAsync(message.MessageId, message.PopReceipt, args.CancellationToken);
    }
}

/// <summary>The storage account as the settings name it: a connection string, or service URIs with a credential.</summary>
/// <param name="Observer">The extra pipeline policy of the app's clients, for other clients of the account.</param>
public sealed record StorageAccount(string? ConnectionString, Uri BlobUri, Uri QueueUri, Uri TableUri, TokenCredential? Credential, HttpPipelinePolicy? Observer);
