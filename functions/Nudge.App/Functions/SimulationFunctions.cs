using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Simulation;

namespace Nudge.App.Functions;

/// <summary><c>POST /api/journeys/{id}/simulate</c> and the <c>Nudge.App simulate</c> command: dry runs in virtual time.</summary>
public static class SimulationFunctions
{
    /// <summary>Over HTTP a simulation must answer within seconds; the command line takes up to 5 million.</summary>
    public const int MaxCustomersOverHttp = 200_000;

    /// <summary>Customers times days one HTTP simulation may cover (e.g. 200,000 customers for 30 days): the work it takes grows with both.</summary>
    public const long MaxCustomerDaysOverHttp = 6_000_000;

    public sealed record SimulateRequest
    {
        public SimulationScenario Scenario { get; init; } = new();

        /// <summary>Simulate the draft instead of the published version.</summary>
        public bool UseDraft { get; init; }

        /// <summary>"synthetic" (default) or "stored": the shop's stored customers (up to <c>scenario.customers</c>) with their own consent.</summary>
        public string Population { get; init; } = "synthetic";
    }

    public static async Task<Results<JsonHttpResult<SimulationReport>, ProblemHttpResult>> SimulateAsync(
        string id, HttpRequest request, IJourneyDefinitionStore store, IProfileStore profiles, PipelineSettings settings, CancellationToken cancellationToken)
    {
        var body = await Http.ReadBodyAsync(request, 64 * 1024, cancellationToken);
        SimulateRequest? simulate;
        try
        {
            simulate = body is { Length: > 0 } b ? JsonSerializer.Deserialize<SimulateRequest>(b.Span, NudgeJson.Options) : new SimulateRequest();
        }
        catch (JsonException e)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid simulation", e.Message);
        }

        var scenario = simulate?.Scenario ?? new SimulationScenario();
        var errors = scenario.Validate().ToList();
        if (scenario.Customers > MaxCustomersOverHttp)
        {
            errors.Add($"customers must be at most {MaxCustomersOverHttp} over HTTP; use 'Nudge.App simulate' for more");
        }
        else if ((long)scenario.Customers * scenario.Days > MaxCustomerDaysOverHttp)
        {
            errors.Add($"customers × days must be at most {MaxCustomerDaysOverHttp:N0} over HTTP; use 'Nudge.App simulate' for more");
        }

        if (simulate?.Population is not ("synthetic" or "stored"))
        {
            errors.Add("population must be 'synthetic' or 'stored'");
        }

        if (errors.Count > 0)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid simulation", string.Join("; ", errors));
        }

        var head = await store.GetHeadAsync(id, cancellationToken);
        var journey = simulate!.UseDraft
            ? head?.Value.Draft
            : head?.Value.PublishedVersion is { } version ? await store.GetVersionAsync(id, version, cancellationToken) : null;
        if (journey is null)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Nothing to simulate",
                $"Journey '{id}' has no {(simulate.UseDraft ? "draft" : "published version")}.");
        }

        List<Core.Customers.CustomerProfile>? population = null;
        if (simulate.Population == "stored")
        {
            population = [];
            await foreach (var profile in profiles.ListAsync(cancellationToken))
            {
                population.Add(profile);
                if (population.Count >= scenario.Customers)
                {
                    break;
                }
            }

            if (population.Count == 0)
            {
                return Http.Problem(StatusCodes.Status404NotFound, "No stored customers", "There are no stored customers to simulate yet.");
            }
        }

        var result = JourneySimulator.Run(journey, scenario, settings.DefaultTimeZone, rules: settings.CrossJourney, population: population);
        return TypedResults.Json(Report(result, scenario), NudgeJson.Options);
    }

    /// <summary><c>Nudge.App simulate --journey welcome|file.json [--customers N] [--days D] [--seed S] [--time-zone Z]</c>.</summary>
    public static int RunCommand(string[] args, TextWriter output, TextWriter error)
    {
        string? Option(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var journeyArg = Option("--journey") ?? "welcome";
        var journey = JourneyCatalog.Presets.FirstOrDefault(p => p.Id == journeyArg)
            ?? (File.Exists(journeyArg) ? JsonSerializer.Deserialize<JourneyDefinition>(File.ReadAllText(journeyArg), NudgeJson.Options) : null);
        if (journey is null)
        {
            error.WriteLine($"'{journeyArg}' is neither a preset ({string.Join(", ", JourneyCatalog.Presets.Select(p => p.Id))}) nor a journey file.");
            return 2;
        }

        var scenario = new SimulationScenario
        {
            Customers = int.Parse(Option("--customers") ?? "100000", System.Globalization.CultureInfo.InvariantCulture),
            Days = int.Parse(Option("--days") ?? "30", System.Globalization.CultureInfo.InvariantCulture),
            Seed = int.Parse(Option("--seed") ?? "1", System.Globalization.CultureInfo.InvariantCulture),
        };
        var problems = scenario.Validate().Concat(JourneyValidator.Validate(journey with { Version = Math.Max(1, journey.Version) }).Errors.Select(e => $"{e.Path}: {e.Message}")).ToList();
        if (problems.Count > 0)
        {
            error.WriteLine(string.Join(Environment.NewLine, problems));
            return 2;
        }

        var zone = TimeZoneInfo.FindSystemTimeZoneById(Option("--time-zone") ?? "Asia/Seoul");
        output.WriteLine(JsonSerializer.Serialize(Report(JourneySimulator.Run(journey, scenario, zone), scenario), new JsonSerializerOptions(NudgeJson.Options) { WriteIndented = true }));
        return 0;
    }

    private static SimulationReport Report(SimulationResult result, SimulationScenario scenario) => new(
        result.JourneyId, result.Version, result.Customers, result.Transitions,
        new SimulationTotals(
            result.Days.SelectMany(d => d.Sent).GroupBy(s => s.Key).ToDictionary(g => g.Key, g => g.Sum(s => s.Value)),
            result.Days.Sum(d => d.Entered), result.Days.Sum(d => d.Deferred), result.Days.Sum(d => d.Capped), result.Days.Sum(d => d.Suppressed),
            result.Days.Sum(d => d.Converted), result.Days.Sum(d => d.HeldOut), result.Days.Sum(d => d.ConvertedHeldOut)),
        [.. result.Days.Select(d => new SimulationReportDay(
            d.Day, DateOnly.FromDateTime(scenario.Start.AddDays(d.Day).UtcDateTime), d.Sent, d.Entered, d.Deferred, d.Capped, d.Suppressed, d.Converted,
            d.ConvertedHeldOut, d.HeldOut, d.Completed, d.Exited))]);

    /// <summary>A dry run's outcome: totals over the run and each day's counts.</summary>
    public sealed record SimulationReport(string Journey, int Version, int Customers, long Transitions, SimulationTotals Totals, IReadOnlyList<SimulationReportDay> Days);

    public sealed record SimulationTotals(
        IReadOnlyDictionary<string, int> Sent, int Entered, int Deferred, int Capped, int Suppressed, int Converted, int HeldOut, int ConvertedHeldOut);

    public sealed record SimulationReportDay(
        int Day, DateOnly Date, IReadOnlyDictionary<string, int> Sent, int Entered, int Deferred, int Capped, int Suppressed, int Converted,
        int ConvertedHeldOut, int HeldOut, int Completed, int Exited);
}
