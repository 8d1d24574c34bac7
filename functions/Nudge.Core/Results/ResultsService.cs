using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Results;

/// <summary>One journey's line in the overview of all journeys.</summary>
public sealed record JourneyResultsSummary(
    string Journey, string? Name, string Status, long Entered, long Sent, long Delivered, long Opened, long Clicked, long Converted,
    double ConversionRate, IReadOnlyList<CurrencyAmount> Revenue);

/// <summary>The overview: every journey between two days.</summary>
public sealed record ResultsOverview(DateOnly From, DateOnly To, IReadOnlyList<JourneyResultsSummary> Journeys);

/// <summary>Reads journeys' results for the marketer API and keeps the ledger folded.</summary>
public sealed class ResultsService(IResultsLedger ledger, IJourneyDefinitionStore journeys, PipelineSettings settings, TimeProvider clock)
{
    /// <summary>The longest range one request may ask for.</summary>
    public const int MaxDays = 366;

    /// <summary>Today in the shop's time zone (virtual time).</summary>
    public DateOnly Today => ResultCounters.DayOf(clock.GetUtcNow(), settings.DefaultTimeZone);

    /// <summary>A journey's results, or null if there is no such journey.</summary>
    public async Task<JourneyResultsReport?> JourneyAsync(string journeyId, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if (!JourneyValidator.IsJourneyId(journeyId))
        {
            return null; // no journey has such an id: nothing to look up (an over-long key would be the storage's 400)
        }

        // The counters are read while the journey is looked up: a request waits for the slower of the two, not both.
        var reading = ledger.ReadAsync(journeyId, from, to, cancellationToken);
        var definition = journeys.GetHeadAsync(journeyId, cancellationToken) is var head && await head is { } found
            ? (Found: true, Definition: await DefinitionOfAsync(found.Value, cancellationToken))
            : (Found: false, Definition: null);
        var counters = await reading;
        return definition.Found ? JourneyResults.Build(definition.Definition, journeyId, from, to, counters) : null;
    }

    public async Task<ResultsOverview> OverviewAsync(DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        var heads = (await journeys.ListHeadsAsync(cancellationToken)).OrderBy(h => h.Id, StringComparer.Ordinal).ToList();
        var rows = await Task.WhenAll(heads.Select(async head =>
        {
            var report = JourneyResults.Build(await DefinitionOfAsync(head, cancellationToken), head.Id, from, to, await ledger.ReadAsync(head.Id, from, to, cancellationToken));
            return new JourneyResultsSummary(head.Id, report.Name, head.Status.ToString().ToLowerInvariant(),
                report.Entered, report.Sent, report.Delivered, report.Opened, report.Clicked, report.Converted,
                ResultStatistics.Rate(report.Converted, report.Entered), report.Revenue);
        }));
        return new ResultsOverview(from, to, rows);
    }

    /// <summary>Folds every journey's recorded facts into its day totals; returns how many facts it folded.</summary>
    public async Task<int> FoldAllAsync(CancellationToken cancellationToken)
    {
        var folded = 0;
        foreach (var head in await journeys.ListHeadsAsync(cancellationToken))
        {
            folded += await ledger.FoldAsync(head.Id, cancellationToken);
        }

        return folded;
    }

    /// <summary>Step names and windows come from the published version (the draft for a journey never published).</summary>
    private async Task<JourneyDefinition?> DefinitionOfAsync(JourneyHead head, CancellationToken cancellationToken) =>
        head.PublishedVersion is { } version ? await journeys.GetVersionAsync(head.Id, version, cancellationToken) ?? head.Draft : head.Draft;
}
