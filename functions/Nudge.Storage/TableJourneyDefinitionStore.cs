using Azure.Data.Tables;
using Nudge.Core.Pipeline;

namespace Nudge.Storage;

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
