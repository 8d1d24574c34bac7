using System.Runtime.CompilerServices;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

/// <summary>Shared table plumbing: conditional writes that report a lost race instead of throwing.</summary>
internal static class Tables
{
    public const int Conflict = 409;
    public const int PreconditionFailed = 412;
    public const int NotFound = 404;

    /// <summary>Insert when <paramref name="expectedVersion"/> is null, else replace if the ETag still matches. Null on a lost race.</summary>
    public static async Task<string?> TryWriteAsync(TableClient table, TableEntity entity, string? expectedVersion, CancellationToken cancellationToken)
    {
        try
        {
            var response = expectedVersion is null
                ? await table.AddEntityAsync(entity, cancellationToken)
                : await table.UpdateEntityAsync(entity, new ETag(expectedVersion), TableUpdateMode.Replace, cancellationToken);
            return response.Headers.ETag?.ToString();
        }
        catch (RequestFailedException e) when (e.Status is Conflict or PreconditionFailed)
        {
            return null;
        }
    }

    public static async Task<TableEntity?> GetOrNullAsync(TableClient table, string partitionKey, string rowKey, CancellationToken cancellationToken)
    {
        var response = await table.GetEntityIfExistsAsync<TableEntity>(partitionKey, rowKey, cancellationToken: cancellationToken);
        return response.HasValue ? response.Value : null;
    }

    public static T Read<T>(TableEntity entity, string property) =>
        JsonSerializer.Deserialize<T>(entity.GetString(property), NudgeJson.Options)
        ?? throw new InvalidDataException($"Entity {entity.PartitionKey}/{entity.RowKey} has no '{property}'.");

    public static string Write<T>(T value) => JsonSerializer.Serialize(value, NudgeJson.Options);

    /// <summary>Deletes every entity of one partition in transactions of up to 100; returns how many there were.</summary>
    public static async Task<int> DeletePartitionAsync(TableClient table, string partitionKey, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}");
        var keys = new List<TableEntity>();
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            keys.Add(entity);
        }

        foreach (var chunk in keys.Chunk(100))
        {
            await table.SubmitTransactionAsync(chunk.Select(e => new TableTransactionAction(TableTransactionActionType.Delete, e, ETag.All)), cancellationToken);
        }

        return keys.Count;
    }

    /// <summary>Deletes every entity the filter matches, one by one (they may span partitions); returns how many.</summary>
    public static async Task<int> DeleteMatchingAsync(TableClient table, string filter, CancellationToken cancellationToken)
    {
        var count = 0;
        await foreach (var row in table.QueryAsync<TableEntity>(filter, select: ["PartitionKey", "RowKey"], cancellationToken: cancellationToken))
        {
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken);
            count++;
        }

        return count;
    }

    /// <summary>The customers named by rows whose Platform and ShopDomain columns match.</summary>
    public static async IAsyncEnumerable<CustomerKey> CustomersOfShopAsync(TableClient table, string platform, string shopDomain, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Platform eq {platform} and ShopDomain eq {shopDomain}");
        await foreach (var entity in table.QueryAsync<TableEntity>(filter, select: ["Platform", "CustomerId"], cancellationToken: cancellationToken))
        {
            yield return new CustomerKey(entity.GetString("Platform"), entity.GetString("CustomerId"));
        }
    }

    /// <summary>The columns that let an erasure find a customer's rows by shop.</summary>
    public static void AddOwner(TableEntity entity, CustomerKey customer, string? shopDomain)
    {
        entity["Platform"] = customer.Platform;
        entity["CustomerId"] = customer.CustomerId;
        entity["ShopDomain"] = shopDomain;
    }
}

public sealed class TableProfileStore(TableServiceClient service, StorageNames names) : IProfileStore
{
    private const string RowKey = "profile";
    private readonly TableClient _table = service.GetTableClient(names.Profiles);

    public async Task<Versioned<CustomerProfile>?> GetAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), RowKey, cancellationToken);
        return entity is null ? null : new Versioned<CustomerProfile>(Tables.Read<CustomerProfile>(entity, "Profile"), entity.ETag.ToString());
    }

    public async Task<bool> TrySaveAsync(CustomerProfile profile, string? expectedVersion, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKey.For(profile.Key), RowKey)
        {
            ["Profile"] = Tables.Write(profile),
            ["HasOrdered"] = profile.HasOrdered,
        };
        Tables.AddOwner(entity, profile.Key, profile.ShopDomain);
        return await Tables.TryWriteAsync(_table, entity, expectedVersion, cancellationToken) is not null;
    }

    public async Task<bool> DeleteAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        var response = await _table.DeleteEntityAsync(TableKey.For(customer), RowKey, ETag.All, cancellationToken);
        return response.Status != Tables.NotFound;
    }

    public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.CustomersOfShopAsync(_table, platform, shopDomain, cancellationToken);

    public async IAsyncEnumerable<CustomerProfile> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"RowKey eq {RowKey}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, select: ["Profile"], cancellationToken: cancellationToken))
        {
            yield return Tables.Read<CustomerProfile>(entity, "Profile");
        }
    }
}

/// <summary>Segments in one partition of their own table (few rows, read together).</summary>
public sealed class TableSegmentStore(TableServiceClient service, StorageNames names) : ISegmentStore
{
    private readonly TableClient _table = service.GetTableClient(names.Segments);

    public async Task<IReadOnlyList<Core.Journeys.Segment>> ListAsync(CancellationToken cancellationToken)
    {
        var segments = new List<Core.Journeys.Segment>();
        await foreach (var entity in _table.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {"segment"}"), cancellationToken: cancellationToken))
        {
            segments.Add(Tables.Read<Core.Journeys.Segment>(entity, "Segment"));
        }

        return segments;
    }

    public async Task SaveAsync(Core.Journeys.Segment segment, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity("segment", TableKey.Escape(segment.Id)) { ["Segment"] = Tables.Write(segment) }, TableUpdateMode.Replace, cancellationToken);
}

/// <summary>Schedule cursors in the settings table.</summary>
public sealed class TableScheduleCursor(TableServiceClient service, StorageNames names) : IScheduleCursor
{
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<DateTimeOffset?> GetAsync(string journeyId, CancellationToken cancellationToken) =>
        (await Tables.GetOrNullAsync(_table, "schedule", TableKey.Escape(journeyId), cancellationToken))?.GetDateTimeOffset("Through");

    public async Task SetAsync(string journeyId, DateTimeOffset through, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity("schedule", TableKey.Escape(journeyId)) { ["Through"] = through }, TableUpdateMode.Replace, cancellationToken);
}

public sealed class TableEventStore(TableServiceClient service, StorageNames names, TimeProvider clock) : IEventStore
{
    /// <summary>How long an undispatched event counts as being dispatched by the request that added it (ingest takes milliseconds).</summary>
    public static readonly TimeSpan InFlightWindow = TimeSpan.FromSeconds(30);

    private readonly TableClient _table = service.GetTableClient(names.Events);

    public Task<EventAddResult> TryAddAsync(CustomerEvent evt, CancellationToken cancellationToken) =>
        TryAddAsync(evt, ReadOnlyMemory<byte>.Empty, cancellationToken);

    public async Task<EventAddResult> TryAddAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, CancellationToken cancellationToken)
    {
        var entity = Row(evt, rawBody);
        entity["Dispatched"] = false;
        if (await Tables.TryWriteAsync(_table, entity, expectedVersion: null, cancellationToken) is not null)
        {
            return EventAddResult.Added;
        }

        var existing = await Tables.GetOrNullAsync(_table, entity.PartitionKey, entity.RowKey, cancellationToken);
        return existing switch
        {
            _ when existing?.GetBoolean("Dispatched") == true => EventAddResult.SeenAndDispatched,
            _ when existing?.GetString(IntakeBatchColumn) is not null => EventAddResult.SeenAndDispatched, // its batch dispatches it
            _ when existing?.GetDateTimeOffset("AcceptedAt") is { } acceptedAt && clock.GetUtcNow() - acceptedAt < InFlightWindow => EventAddResult.SeenInFlight,
            _ => EventAddResult.SeenNotDispatched,
        };
    }

    /// <summary>
    /// Claimed rows carry the intake batch that claimed them instead of a Dispatched flag: the flag's sweep
    /// (<see cref="ListUndispatchedAsync"/>) never sees them, and a redelivered batch knows its own rows.
    /// </summary>
    public async Task<bool> TryClaimAsync(CustomerEvent evt, ReadOnlyMemory<byte> rawBody, string claim, CancellationToken cancellationToken)
    {
        var entity = Row(evt, rawBody);
        entity[IntakeBatchColumn] = claim;
        if (await Tables.TryWriteAsync(_table, entity, expectedVersion: null, cancellationToken) is not null)
        {
            return true;
        }

        var existing = await Tables.GetOrNullAsync(_table, entity.PartitionKey, entity.RowKey, cancellationToken);
        return existing?.GetString(IntakeBatchColumn) == claim;
    }

    private const string IntakeBatchColumn = "IntakeBatch";

    private TableEntity Row(CustomerEvent evt, ReadOnlyMemory<byte> rawBody)
    {
        var entity = new TableEntity(TableKey.For(evt.Customer), TableKey.Escape(evt.EventId))
        {
            ["Type"] = evt.Type,
            ["OccurredAt"] = evt.OccurredAt,
            ["AcceptedAt"] = clock.GetUtcNow(),
            ["Event"] = Tables.Write(evt),
        };
        Tables.AddOwner(entity, evt.Customer, evt.ShopDomain);
        entity["SubjectId"] = evt.SubjectId;
        if (!rawBody.IsEmpty)
        {
            entity["RawBody"] = BinaryData.FromBytes(rawBody);
        }

        return entity;
    }

    public async Task MarkDispatchedAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken)
    {
        var patch = new TableEntity(TableKey.For(customer), TableKey.Escape(eventId)) { ["Dispatched"] = true };
        await _table.UpdateEntityAsync(patch, ETag.All, TableUpdateMode.Merge, cancellationToken);
    }

    public async Task<CustomerEvent?> GetAsync(CustomerKey customer, string eventId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_table, TableKey.For(customer), TableKey.Escape(eventId), cancellationToken);
        return entity is null ? null : Tables.Read<CustomerEvent>(entity, "Event");
    }

    public async IAsyncEnumerable<CustomerEvent> ListUndispatchedAsync(DateTimeOffset acceptedBefore, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"Dispatched eq {false} and AcceptedAt lt {acceptedBefore}");
        await foreach (var entity in _table.QueryAsync<TableEntity>(filter, cancellationToken: cancellationToken))
        {
            yield return Tables.Read<CustomerEvent>(entity, "Event");
        }
    }

    public Task<int> DeleteForCustomerAsync(CustomerKey customer, CancellationToken cancellationToken) =>
        Tables.DeletePartitionAsync(_table, TableKey.For(customer), cancellationToken);

    public IAsyncEnumerable<CustomerKey> ListCustomersOfShopAsync(string platform, string shopDomain, CancellationToken cancellationToken) =>
        Tables.CustomersOfShopAsync(_table, platform, shopDomain, cancellationToken);

    public async Task<bool> HasSubjectAsync(CustomerKey customer, string type, string subjectId, CancellationToken cancellationToken)
    {
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.For(customer)} and Type eq {type} and SubjectId eq {subjectId}");
        await foreach (var _ in _table.QueryAsync<TableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken))
        {
            return true;
        }

        return false;
    }
}

/// <summary>Each shop's reconciliation high-water mark, in the settings table.</summary>
public sealed class TableReconcileCursorStore(TableServiceClient service, StorageNames names) : IReconcileCursorStore
{
    private const string Partition = "reconcile";
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<DateTimeOffset?> GetAsync(Core.Ingest.ShopAccount shop, CancellationToken cancellationToken) =>
        (await Tables.GetOrNullAsync(_table, Partition, TablePrivacyAuditLog.ShopKey(shop.Platform, shop.Domain), cancellationToken))?.GetDateTimeOffset("ReachedUntil");

    public async Task SetAsync(Core.Ingest.ShopAccount shop, DateTimeOffset reachedUntil, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity(Partition, TablePrivacyAuditLog.ShopKey(shop.Platform, shop.Domain)) { ["ReachedUntil"] = reachedUntil }, TableUpdateMode.Replace, cancellationToken);
}

/// <summary>Minted Admin API tokens, one row per shop in the settings table (partition <c>admin-tokens</c>).</summary>
public sealed class TableAdminTokenStore(TableServiceClient service, StorageNames names) : IAdminTokenStore
{
    private const string Partition = "admin-tokens";
    private readonly TableClient _table = service.GetTableClient(names.Settings);

    public async Task<AdminToken?> GetAsync(Core.Ingest.ShopAccount shop, CancellationToken cancellationToken) =>
        await Tables.GetOrNullAsync(_table, Partition, TablePrivacyAuditLog.ShopKey(shop.Platform, shop.Domain), cancellationToken) is { } row
            && row.GetString("AccessToken") is { } access && row.GetDateTimeOffset("ExpiresAt") is { } expires
            && row.GetString("RefreshToken") is { } refresh && row.GetString("Seed") is { } seed
            ? new AdminToken(access, expires, refresh, seed)
            : null;

    public async Task SetAsync(Core.Ingest.ShopAccount shop, AdminToken token, CancellationToken cancellationToken) =>
        await _table.UpsertEntityAsync(new TableEntity(Partition, TablePrivacyAuditLog.ShopKey(shop.Platform, shop.Domain))
        {
            ["AccessToken"] = token.AccessToken,
            ["ExpiresAt"] = token.ExpiresAt,
            ["RefreshToken"] = token.RefreshToken,
            ["Seed"] = token.Seed,
        }, TableUpdateMode.Replace, cancellationToken);
}

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

/// <summary>Journey heads in one partition (few rows, listed often) and immutable versions per journey.</summary>
public sealed class TableJourneyDefinitionStore(TableServiceClient service, StorageNames names) : IJourneyDefinitionStore
{
    private const string HeadPartition = "head";
    private readonly TableClient _heads = service.GetTableClient(names.Journeys);
    private readonly TableClient _versions = service.GetTableClient(names.JourneyVersions);

    public async Task<Versioned<Core.Journeys.JourneyHead>?> GetHeadAsync(string journeyId, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_heads, HeadPartition, TableKey.Escape(journeyId), cancellationToken);
        return entity is null ? null : new Versioned<Core.Journeys.JourneyHead>(Tables.Read<Core.Journeys.JourneyHead>(entity, "Head"), entity.ETag.ToString());
    }

    public async Task<bool> TrySaveHeadAsync(Core.Journeys.JourneyHead head, string? expectedVersion, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(HeadPartition, TableKey.Escape(head.Id))
        {
            ["Status"] = Tables.Write(head.Status).Trim('"'),
            ["PublishedVersion"] = head.PublishedVersion,
            ["Head"] = Tables.Write(head),
        };
        return await Tables.TryWriteAsync(_heads, entity, expectedVersion, cancellationToken) is not null;
    }

    public async Task<IReadOnlyList<Core.Journeys.JourneyHead>> ListHeadsAsync(CancellationToken cancellationToken)
    {
        var heads = new List<Core.Journeys.JourneyHead>();
        await foreach (var entity in _heads.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {HeadPartition}"), cancellationToken: cancellationToken))
        {
            heads.Add(Tables.Read<Core.Journeys.JourneyHead>(entity, "Head"));
        }

        return heads;
    }

    public async Task SaveVersionAsync(Core.Journeys.JourneyDefinition definition, CancellationToken cancellationToken)
    {
        var entity = new TableEntity(TableKey.Escape(definition.Id), VersionKey(definition.Version)) { ["Definition"] = Tables.Write(definition) };
        await Tables.TryWriteAsync(_versions, entity, expectedVersion: null, cancellationToken); // immutable: a second write of the same version is a no-op
    }

    public async Task<Core.Journeys.JourneyDefinition?> GetVersionAsync(string journeyId, int version, CancellationToken cancellationToken)
    {
        var entity = await Tables.GetOrNullAsync(_versions, TableKey.Escape(journeyId), VersionKey(version), cancellationToken);
        return entity is null ? null : Tables.Read<Core.Journeys.JourneyDefinition>(entity, "Definition");
    }

    public async Task<IReadOnlyList<Core.Journeys.JourneyDefinition>> ListVersionsAsync(string journeyId, CancellationToken cancellationToken)
    {
        var versions = new List<Core.Journeys.JourneyDefinition>();
        await foreach (var entity in _versions.QueryAsync<TableEntity>(TableClient.CreateQueryFilter($"PartitionKey eq {TableKey.Escape(journeyId)}"), cancellationToken: cancellationToken))
        {
            versions.Add(Tables.Read<Core.Journeys.JourneyDefinition>(entity, "Definition"));
        }

        return versions;
    }

    private static string VersionKey(int version) => version.ToString("D6", System.Globalization.CultureInfo.InvariantCulture);
}

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
        ["Group"] = r.Group,
    };

    internal static DeliveryRecord FromEntity(TableEntity e) => new()
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
        Group = e.GetString("Group"),
    };
}
