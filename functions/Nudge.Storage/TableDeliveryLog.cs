using System.Text.Json;
using Azure.Data.Tables;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

public sealed class TableDeliveryLog(TableServiceClient service, StorageNames names) : IDeliveryLog
{
    private readonly TableClient _table = service.GetTableClient(names.Deliveries);

    public async Task AddQueuedAsync(DeliveryRecord record, CancellationToken cancellationToken) =>
        await Tables.TryWriteAsync(_table, ToEntity(record), expectedVersion: null, cancellationToken);

    public async Task<Versioned<DeliveryRecord>?> GetAsync(CustomerKey customer, string deliveryId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), deliveryId, cancellationToken);
        return entity is null ? null : new Versioned<DeliveryRecord>(FromEntity(entity), entity.ETag.ToString());
    }

    public async Task<bool> TryUpdateAsync(DeliveryRecord record, string? expectedVersion, CancellationToken cancellationToken) =>
        await Tables.TryWriteAsync(_table, ToEntity(record), expectedVersion, cancellationToken) is not null;

    public Task<string?> TryUpdateVersionedAsync(DeliveryRecord record, string? expectedVersion, CancellationToken cancellationToken) =>
        Tables.TryWriteAsync(_table, ToEntity(record), expectedVersion, cancellationToken);

    public async Task<IReadOnlyList<DeliveryRecord>> ListForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)}");
        var records = new List<DeliveryRecord>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            records.Add(FromEntity(entity));
        }

        return records.OrderBy(r => r.ScheduledFor).ThenBy(r => r.StepIndex).ToList();
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);

    private static TableEntity ToEntity(DeliveryRecord r) => new(TableKey.For(r.Customer), r.DeliveryId)
    {
        ["Platform"] = r.Customer.Platform,
        ["CustomerId"] = r.Customer.CustomerId,
        ["JourneyId"] = r.JourneyId,
        ["StepIndex"] = r.StepIndex,
        ["Channel"] = r.Channel,
        ["Template"] = r.Template,
        ["Class"] = Tables.Write(r.Class).Trim('"'),
        ["Status"] = r.Status,
        ["ScheduledFor"] = r.ScheduledFor,
        ["SentAt"] = r.SentAt,
        ["Reason"] = r.Reason,
        ["ProviderMessageId"] = r.ProviderMessageId,
        ["Attempts"] = r.Attempts,
        ["Kind"] = r.Kind,
        ["Provider"] = r.Provider,
        ["MaybeSentVia"] = r.MaybeSentVia,
        ["ClaimedUntil"] = r.ClaimedUntil,
    };

    private static DeliveryRecord FromEntity(TableEntity e) => new()
    {
        DeliveryId = e.RowKey,
        Customer = new CustomerKey(e.GetString("Platform"), e.GetString("CustomerId")),
        JourneyId = e.GetString("JourneyId"),
        StepIndex = e.GetInt32("StepIndex") ?? 0,
        Channel = e.GetString("Channel"),
        Template = e.GetString("Template"),
        Class = JsonSerializer.Deserialize<Core.Delivery.MessageClass>($"\"{e.GetString("Class")}\"", NudgeJson.Options),
        Status = e.GetString("Status"),
        ScheduledFor = e.GetDateTimeOffset("ScheduledFor") ?? default,
        SentAt = e.GetDateTimeOffset("SentAt"),
        Reason = e.GetString("Reason"),
        ProviderMessageId = e.GetString("ProviderMessageId"),
        Attempts = e.GetInt32("Attempts") ?? 0,
        Kind = e.GetString("Kind"),
        Provider = e.GetString("Provider"),
        MaybeSentVia = e.GetString("MaybeSentVia"),
        ClaimedUntil = e.GetDateTimeOffset("ClaimedUntil"),
    };
}
