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

    public async Task<Core.Customers.CustomerKey?> FindCustomerAsync(string deliveryId, CancellationToken cancellationToken) =>
        (await FindDeliveryAsync(deliveryId, cancellationToken))?.Customer;

    public async Task<DeliveryRecord?> FindDeliveryAsync(string deliveryId, CancellationToken cancellationToken)
    {
        // Provider reports carry only our delivery id: one query by row key across partitions.
        await foreach (var e in _deliveries.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"RowKey eq {deliveryId}"), cancellationToken: cancellationToken))
        {
            return TableDeliveryLog.FromEntity(e);
        }

        return null;
    }

    public async Task<IReadOnlyList<DateTimeOffset>> ClickTimesAsync(string deliveryId, CancellationToken cancellationToken)
    {
        // Row keys begin with the ticks of when the event was recorded.
        var clicks = new List<DateTimeOffset>();
        await foreach (var e in _events.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {deliveryId} and Type eq {"clicked"}"), select: ["RowKey"], cancellationToken: cancellationToken))
        {
            if (long.TryParse(e.RowKey.AsSpan(0, Math.Min(19, e.RowKey.Length)), out var ticks))
            {
                clicks.Add(new DateTimeOffset(ticks, TimeSpan.Zero));
            }
        }

        return clicks;
    }
}
