using System.Runtime.CompilerServices;
using Azure;
using Azure.Data.Tables;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

public sealed class TableJourneyInstanceStore(TableServiceClient service, StorageNames names) : IJourneyInstanceStore
{
    private readonly TableClient _table = service.GetTableClient(names.Instances);

    public async Task<Versioned<Core.Journeys.JourneyInstance>?> GetAsync(CustomerKey customer, string slot, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), TableKey.Escape(slot), cancellationToken);
        return entity is null ? null : new Versioned<Core.Journeys.JourneyInstance>(Read(entity), entity.ETag.ToString());
    }

    public Task<string?> TrySaveAsync(Core.Journeys.JourneyInstance instance, string? expectedVersion, CancellationToken cancellationToken) =>
        Tables.TryWriteAsync(_table, ToEntity(instance), expectedVersion, cancellationToken);

    public async Task<bool> ReplaceIfPresentAsync(Core.Journeys.JourneyInstance instance, CancellationToken cancellationToken)
    {
        try
        {
            await _table.UpdateEntityAsync(ToEntity(instance), ETag.All, TableUpdateMode.Replace, cancellationToken);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == Tables.NotFound)
        {
            return false;
        }
    }

    private static TableEntity ToEntity(Core.Journeys.JourneyInstance instance) => new(TableKey.For(instance.Customer), TableKey.Escape(instance.Slot))
    {
        ["JourneyId"] = instance.Definition.Id,
        ["JourneyVersion"] = instance.Definition.Version,
        ["Status"] = Tables.Write(instance.Status).Trim('"'),
        ["CurrentStep"] = instance.CurrentStep,
        ["WaitingUntil"] = instance.WaitingUntil,
        ["Instance"] = Tables.Write(instance),
    };

    public async IAsyncEnumerable<Core.Journeys.JourneyInstance> ListForCustomerAsync(CustomerKey customer, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return Read(entity);
        }
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);
    public async IAsyncEnumerable<(int Version, string? Step)> ListActivePositionsAsync(string journeyId, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // A scan with a filter: fine for previews; a per-journey index table is the next step at large scale.
        var filter = TableClient.CreateQueryFilter($"JourneyId eq {journeyId} and Status eq {"active"}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["JourneyVersion", "CurrentStep"], cancellationToken: cancellationToken))
        {
            yield return (entity.GetInt32("JourneyVersion") ?? 0, entity.GetString("CurrentStep"));
        }
    }

    private static Core.Journeys.JourneyInstance Read(TableEntity entity) => Tables.Read<Core.Journeys.JourneyInstance>(entity, "Instance");
}
