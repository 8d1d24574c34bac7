using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Provider reports, clicks and other events after a delivery, and the lookup from a delivery id to its row.</summary>
public sealed class TableDeliveryEvents(TableServiceClient service, StorageNames names, TimeProvider clock) : IDeliveryEvents
{
    private readonly TableClient _events = service.GetTableClient(names.DeliveryEvents);
    private readonly TableClient _deliveries = service.GetTableClient(names.Deliveries);

    public async Task RecordAsync(Core.Customers.CustomerKey customer, string deliveryId, string type, string? detail, CancellationToken cancellationToken) =>
        await _events.AddEntityAsync(new TableEntity(deliveryId, $"{clock.GetUtcNow().UtcTicks:D19}-{type}-{Guid.NewGuid():N}")
        {
            ["Platform"] = customer.Platform,
            ["CustomerId"] = customer.CustomerId,
            ["Type"] = type,
            ["Detail"] = detail,
        }, cancellationToken);

    public async Task<IReadOnlyList<(string Type, string? Detail)>> ListAsync(string deliveryId, CancellationToken cancellationToken)
    {
        var list = new List<(string, string?)>();
        await foreach (var e in _events.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {deliveryId}"), cancellationToken: cancellationToken))
        {
            list.Add((e.GetString("Type"), e.GetString("Detail")));
        }

        return list;
    }

    public Task<int> DeleteForDeliveryAsync(string deliveryId, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_events, deliveryId, cancellationToken);

    public async Task<Core.Customers.CustomerKey?> FindCustomerAsync(string deliveryId, CancellationToken cancellationToken)
    {
        // Provider reports carry only our delivery id: one query by row key across partitions.
        await foreach (var e in _deliveries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {deliveryId}"), select: ["Platform", "CustomerId"], cancellationToken: cancellationToken))
        {
            return new Core.Customers.CustomerKey(e.GetString("Platform"), e.GetString("CustomerId"));
        }

        return null;
    }
}
