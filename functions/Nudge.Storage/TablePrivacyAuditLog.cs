using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Privacy requests, one row per request under its shop. No customer id, email or phone is ever written here.</summary>
public sealed class TablePrivacyAuditLog(TableServiceClient service, StorageNames names) : IPrivacyAuditLog
{
    private readonly TableClient _table = service.GetTableClient(names.PrivacyAudit);

    public async Task RecordAsync(PrivacyAuditRecord record, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKey.ForShop(record.Platform, record.ShopDomain), TableKey.Escape(record.RequestId))
        {
            ["Kind"] = record.Kind.ToString(),
            ["Status"] = record.Status,
            ["Record"] = Tables.Write(record),
        };
        await _table.UpsertEntityAsync(entity, TableUpdateMode.Replace, cancellationToken);
    }

    public async Task<PrivacyAuditRecord?> GetAsync(string platform, string shopDomain, string requestId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.ForShop(platform, shopDomain), TableKey.Escape(requestId), cancellationToken);
        return entity is null ? null : Tables.Read<PrivacyAuditRecord>(entity, "Record");
    }
}
