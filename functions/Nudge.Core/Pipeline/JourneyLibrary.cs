using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>The outcome of a marketer's operation on a journey.</summary>
public abstract record JourneyResult
{
    public sealed record Ok(JourneyHead Head, JourneyDefinition? Definition) : JourneyResult;

    public sealed record NotFound(string JourneyId) : JourneyResult;

    public sealed record Invalid(IReadOnlyList<ValidationIssue> Errors) : JourneyResult;

    /// <summary>The operation does not apply in the journey's current state (e.g. resume an archived journey).</summary>
    public sealed record Conflict(string Reason) : JourneyResult;
}

/// <summary>
/// Journeys as a marketer manages them: drafts, validation, publishing immutable versions, pause, resume,
/// archive; and the catalog the pipeline reads (published versions of active journeys, cached briefly).
/// </summary>
public sealed class JourneyLibrary(IJourneyDefinitionStore store, IJourneyInstanceStore instances, TimeProvider clock) : IJourneyCatalog
{
    /// <summary>How stale the pipeline's view of active journeys may be (a publish takes effect within this).</summary>
    public static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(5);

    private readonly BriefCache<CachedCatalog> _cache = new(CacheFor);

    private sealed record CachedCatalog(IReadOnlyList<JourneyDefinition> Active, IReadOnlyDictionary<string, JourneyStatus> Statuses);

    public async Task<IReadOnlyList<JourneyDefinition>> ActiveAsync(CancellationToken cancellationToken) =>
        (await CatalogAsync(cancellationToken)).Active;

    public async Task<JourneyStatus?> StatusAsync(string journeyId, CancellationToken cancellationToken) =>
        (await CatalogAsync(cancellationToken)).Statuses.TryGetValue(journeyId, out var status) ? status : null;

    /// <summary>Publishes the journeys that are on by default, if this deployment has never seen them.</summary>
    public async Task SeedAsync(IEnumerable<JourneyDefinition> onByDefault, CancellationToken cancellationToken)
    {
        foreach (var definition in onByDefault)
        {
            if (await store.GetHeadAsync(definition.Id, cancellationToken) is null)
            {
                await store.SaveVersionAsync(definition, cancellationToken);
                await store.TrySaveHeadAsync(new JourneyHead
                {
                    Id = definition.Id, Status = JourneyStatus.Active, PublishedVersion = definition.Version,
                    LatestVersion = definition.Version, UpdatedAt = clock.GetUtcNow(),
                }, null, cancellationToken);
            }
        }

        Invalidate();
    }

    public Task<JourneyResult> SaveDraftAsync(JourneyDefinition draft, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<JourneyResult>($"The draft of '{draft.Id}'", async _ =>
        {
            var current = await store.GetHeadAsync(draft.Id, cancellationToken);
            if (current?.Value.Status == JourneyStatus.Archived)
            {
                return Attempt.Done<JourneyResult>(new JourneyResult.Conflict("The journey is archived; create a new one."));
            }

            var head = current?.Value ?? new JourneyHead { Id = draft.Id };
            var numbered = draft with { Version = head.LatestVersion + 1 };
            var (errors, _) = JourneyValidator.Validate(numbered);
            if (errors.Count > 0)
            {
                return Attempt.Done<JourneyResult>(new JourneyResult.Invalid(errors));
            }

            var updated = head with { Draft = numbered, UpdatedAt = clock.GetUtcNow() };
            return await store.TrySaveHeadAsync(updated, current?.Version, cancellationToken)
                ? Attempt.Done<JourneyResult>(new JourneyResult.Ok(updated, numbered))
                : Attempt.Lost;
        }, cancellationToken);

    /// <summary>Freezes the draft as the next version and makes it the one new entries use; running instances keep theirs.</summary>
    public Task<JourneyResult> PublishAsync(string journeyId, CancellationToken cancellationToken) =>
        UpdateHeadAsync(journeyId, async head =>
        {
            if (head.Draft is null)
            {
                return (null, new JourneyResult.Conflict("There is no draft to publish."));
            }

            var (errors, _) = JourneyValidator.Validate(head.Draft);
            if (errors.Count > 0)
            {
                return (null, new JourneyResult.Invalid(errors));
            }

            await store.SaveVersionAsync(head.Draft, cancellationToken);
            var published = head with
            {
                Status = head.Status == JourneyStatus.Paused ? JourneyStatus.Paused : JourneyStatus.Active,
                PublishedVersion = head.Draft.Version,
                LatestVersion = head.Draft.Version,
                Draft = null,
            };
            return (published, null);
        }, cancellationToken);

    public Task<JourneyResult> PauseAsync(string journeyId, CancellationToken cancellationToken) =>
        ChangeStatusAsync(journeyId, JourneyStatus.Paused, [JourneyStatus.Active], cancellationToken);

    public Task<JourneyResult> ResumeAsync(string journeyId, CancellationToken cancellationToken) =>
        ChangeStatusAsync(journeyId, JourneyStatus.Active, [JourneyStatus.Paused], cancellationToken);

    public Task<JourneyResult> ArchiveAsync(string journeyId, CancellationToken cancellationToken) =>
        ChangeStatusAsync(journeyId, JourneyStatus.Archived, [JourneyStatus.Draft, JourneyStatus.Active, JourneyStatus.Paused], cancellationToken);

    /// <summary>How many running instances sit at each step of each version: what a publish would leave running.</summary>
    public async Task<IReadOnlyList<(int Version, string? Step, int Instances)>> ImpactAsync(string journeyId, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(int, string?), int>();
        await foreach (var position in instances.ListActivePositionsAsync(journeyId, cancellationToken))
        {
            counts[position] = counts.GetValueOrDefault(position) + 1;
        }

        return counts.Select(c => (c.Key.Item1, c.Key.Item2, c.Value)).OrderBy(c => c.Item1).ThenBy(c => c.Item2, StringComparer.Ordinal).ToList();
    }

    private Task<JourneyResult> ChangeStatusAsync(string journeyId, JourneyStatus to, JourneyStatus[] from, CancellationToken cancellationToken) =>
        UpdateHeadAsync(journeyId, head =>
        {
            if (head.Status == to)
            {
                return Task.FromResult<(JourneyHead?, JourneyResult?)>((head, null));
            }

            if (!from.Contains(head.Status) || (to == JourneyStatus.Active && head.PublishedVersion is null))
            {
                return Task.FromResult<(JourneyHead?, JourneyResult?)>((null, new JourneyResult.Conflict($"A {head.Status.ToString().ToLowerInvariant()} journey cannot become {to.ToString().ToLowerInvariant()}.")));
            }

            return Task.FromResult<(JourneyHead?, JourneyResult?)>((head with { Status = to }, null));
        }, cancellationToken);

    private Task<JourneyResult> UpdateHeadAsync(string journeyId, Func<JourneyHead, Task<(JourneyHead? Updated, JourneyResult? Refusal)>> change, CancellationToken cancellationToken) =>
        OptimisticConcurrency.RetryAsync<JourneyResult>($"Journey '{journeyId}'", async _ =>
        {
            var current = await store.GetHeadAsync(journeyId, cancellationToken);
            if (current is null)
            {
                return Attempt.Done<JourneyResult>(new JourneyResult.NotFound(journeyId));
            }

            var (updated, refusal) = await change(current.Value);
            if (refusal is not null)
            {
                return Attempt.Done(refusal);
            }

            if (updated == current.Value)
            {
                return Attempt.Done<JourneyResult>(new JourneyResult.Ok(updated, null));
            }

            updated = updated! with { UpdatedAt = clock.GetUtcNow() };
            if (!await store.TrySaveHeadAsync(updated, current.Version, cancellationToken))
            {
                return Attempt.Lost;
            }

            Invalidate();
            return Attempt.Done<JourneyResult>(new JourneyResult.Ok(updated, null));
        }, cancellationToken);

    private void Invalidate() => _cache.Invalidate();

    private Task<CachedCatalog> CatalogAsync(CancellationToken cancellationToken) => _cache.GetAsync(() => LoadCatalogAsync(cancellationToken));

    private async Task<CachedCatalog> LoadCatalogAsync(CancellationToken cancellationToken)
    {
        var heads = await store.ListHeadsAsync(cancellationToken);
        var active = new List<JourneyDefinition>();
        foreach (var head in heads.Where(h => h.TakesEntries))
        {
            if (await store.GetVersionAsync(head.Id, head.PublishedVersion!.Value, cancellationToken) is { } definition)
            {
                active.Add(definition);
            }
        }

        return new CachedCatalog(active.OrderByDescending(d => d.Priority).ToList(), heads.ToDictionary(h => h.Id, h => h.Status));
    }
}
