using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>The marketer API for journeys: drafts, validation, publishing, lifecycle, versions, impact, presets.</summary>
public sealed class JourneysFunctions(
    IOptions<NudgeOptions> options, IJourneyDefinitionStore store, JourneyLibrary library, IJourneyInstanceStore instances, IDeliveryLog deliveries,
    IProfileStore profiles, PipelineSettings settings)
{
    [Function("Journeys")]
    [Description("Every journey: status, published and latest version, whether it has a draft.")]
    public async Task<Results<JsonHttpResult<IReadOnlyList<JourneySummary>>, ProblemHttpResult>> ListAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        return Json<IReadOnlyList<JourneySummary>>([.. (await store.ListHeadsAsync(cancellationToken)).OrderBy(h => h.Id, StringComparer.Ordinal).Select(JourneySummary.Of)]);
    }

    /// <summary>Create or replace a journey's draft (validated).</summary>
    [Function("JourneySave")]
    [Description("Create or replace a journey's draft (validated; the body is the journey definition).")]
    public async Task<Results<JsonHttpResult<JourneyChange>, ProblemHttpResult>> SaveDraftAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        return definition is null ? problem! : Map(await library.SaveDraftAsync(definition, cancellationToken));
    }

    /// <summary>The ready journeys from the case studies.</summary>
    [Function("JourneyPresets")]
    [Description("The ready journeys from the case studies.")]
    public Results<JsonHttpResult<IReadOnlyList<JourneyDefinition>>, ProblemHttpResult> Presets(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/presets")] HttpRequest request) =>
        Http.RequireMarketerKey(request, options.Value) is { } denied ? denied : Json(JourneyCatalog.Presets);

    /// <summary>Validate a journey definition without saving it.</summary>
    [Function("JourneyValidate")]
    [Description("Validate a journey definition without saving it: errors and warnings.")]
    public async Task<Results<JsonHttpResult<JourneyValidation>, ProblemHttpResult>> ValidateAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys/validate")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        if (definition is null)
        {
            return problem!;
        }

        var (errors, warnings) = JourneyValidator.Validate(definition);
        return Json(new JourneyValidation(errors.Count == 0, errors, warnings));
    }

    /// <summary>A journey's status, published definition and draft.</summary>
    [Function("JourneyItem")]
    [Description("A journey's status, published definition and draft.")]
    public async Task<Results<JsonHttpResult<JourneyDetail>, ProblemHttpResult>> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var head = await store.GetHeadAsync(id, cancellationToken);
        if (head is null)
        {
            return NotFound(id);
        }

        var published = head.Value.PublishedVersion is { } version ? await store.GetVersionAsync(id, version, cancellationToken) : null;
        return Json(new JourneyDetail(JourneySummary.Of(head.Value), published, head.Value.Draft));
    }

    /// <summary>Replace a journey's draft.</summary>
    [Function("JourneyDraft")]
    [Description("Replace a journey's draft (the body's id must be the path's).")]
    public async Task<Results<JsonHttpResult<JourneyChange>, ProblemHttpResult>> SaveDraftForAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "journeys/{id}/draft")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        if (definition is null)
        {
            return problem!;
        }

        if (definition.Id != id)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Id mismatch", $"The body's id '{definition.Id}' is not '{id}'.");
        }

        return Map(await library.SaveDraftAsync(definition, cancellationToken));
    }

    /// <summary>publish | pause | resume | archive | simulate (body: { scenario, useDraft }).</summary>
    [Function("JourneyAction")]
    [Description("publish | pause | resume | archive: the journey after the change; simulate (body: { scenario, useDraft, population }): a dry run in virtual time.")]
    public async Task<Results<JsonHttpResult<JourneyChange>, JsonHttpResult<SimulationFunctions.SimulationReport>, ProblemHttpResult>> ActAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys/{id}/{action}")] HttpRequest request, string id, string action, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        if (action == "simulate")
        {
            var simulated = await SimulationFunctions.SimulateAsync(id, request, store, profiles, settings, cancellationToken);
            return simulated.Result is JsonHttpResult<SimulationFunctions.SimulationReport> report ? report : (ProblemHttpResult)simulated.Result;
        }

        Results<JsonHttpResult<JourneyChange>, ProblemHttpResult> change = action switch
        {
            "publish" => Map(await library.PublishAsync(id, cancellationToken)),
            "pause" => Map(await library.PauseAsync(id, cancellationToken)),
            "resume" => Map(await library.ResumeAsync(id, cancellationToken)),
            "archive" => Map(await library.ArchiveAsync(id, cancellationToken)),
            _ => Http.Problem(StatusCodes.Status404NotFound, "Unknown action", $"'{action}' is not one of publish, pause, resume, archive, simulate."),
        };
        return change.Result is JsonHttpResult<JourneyChange> changed ? changed : (ProblemHttpResult)change.Result;
    }

    /// <summary>Every published version.</summary>
    [Function("JourneyVersions")]
    [Description("Every published version of a journey.")]
    public async Task<Results<JsonHttpResult<IReadOnlyList<JourneyDefinition>>, ProblemHttpResult>> VersionsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/versions")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        if (await store.GetHeadAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var versions = await store.ListVersionsAsync(id, cancellationToken);
        return Json<IReadOnlyList<JourneyDefinition>>([.. versions.OrderBy(v => v.Version)]);
    }

    /// <summary>How many running instances sit at each step of each version.</summary>
    [Function("JourneyImpact")]
    [Description("How many running instances sit at each step of each version.")]
    public async Task<Results<JsonHttpResult<JourneyImpact>, ProblemHttpResult>> ImpactAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/impact")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var head = await store.GetHeadAsync(id, cancellationToken);
        if (head is null)
        {
            return NotFound(id);
        }

        var positions = await library.ImpactAsync(id, cancellationToken);
        return Json(new JourneyImpact(id, head.Value.PublishedVersion, head.Value.Draft?.Version, positions.Sum(p => p.Instances),
            [.. positions.Select(p => new StepPosition(p.Version, p.Step, p.Instances))]));
    }

    /// <summary>Where a customer is in which journey, and why.</summary>
    [Function("CustomerJourneys")]
    [Description("Where a customer is in which journey, and why: each instance with its history and its deliveries.")]
    public async Task<Results<JsonHttpResult<IReadOnlyList<CustomerJourney>>, ProblemHttpResult>> CustomerJourneysAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "customers/{platform}/{customerId}/journeys")] HttpRequest request, string platform, string customerId,
        CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var customer = new CustomerKey(platform, customerId);
        var sent = (await deliveries.ListForCustomerAsync(customer, cancellationToken)).ToLookup(d => d.JourneyId);
        var result = new List<CustomerJourney>();
        await foreach (var instance in instances.ListForCustomerAsync(customer, cancellationToken))
        {
            result.Add(new CustomerJourney(
                instance.Definition.Id, instance.Definition.Version, instance.InstanceId, instance.BusinessKey, instance.Status, instance.CurrentStep,
                instance.WaitingUntil, instance.StartedAt, instance.EndedAt, instance.EndReason, instance.Converted, instance.HeldOut, instance.Branches, instance.History,
                [.. sent[instance.Definition.Id].Select(d => new CustomerJourney.Delivery(d.DeliveryId, d.Channel, d.Template, d.Status, d.Reason, d.ScheduledFor, d.SentAt))]));
        }

        return Json<IReadOnlyList<CustomerJourney>>(result);
    }

    private static async Task<(JourneyDefinition? Definition, ProblemHttpResult? Problem)> ReadDefinitionAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!Http.IsJson(request))
        {
            return (null, Http.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the journey as application/json."));
        }

        var body = await Http.ReadBodyAsync(request, 256 * 1024, cancellationToken);
        if (body is null)
        {
            return (null, Http.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", "A journey definition is at most 256 KiB."));
        }

        try
        {
            var definition = JsonSerializer.Deserialize<JourneyDefinition>(body.Value.Span, NudgeJson.Options);
            return definition is null
                ? (null, Http.Problem(StatusCodes.Status400BadRequest, "Invalid journey", "The body is empty."))
                : (definition with { Version = Math.Max(definition.Version, 1) }, null);
        }
        catch (Exception e) when (e is JsonException or NotSupportedException or InvalidOperationException or FormatException)
        {
            return (null, Http.Problem(StatusCodes.Status400BadRequest, "Invalid journey", e.Message));
        }
    }

    private static Results<JsonHttpResult<JourneyChange>, ProblemHttpResult> Map(JourneyResult result) => result switch
    {
        JourneyResult.Ok ok => Json(new JourneyChange(JourneySummary.Of(ok.Head), ok.Definition ?? ok.Head.Draft)),
        JourneyResult.NotFound notFound => NotFound(notFound.JourneyId),
        JourneyResult.Invalid invalid => TypedResults.Problem(
            statusCode: StatusCodes.Status400BadRequest, title: "Invalid journey",
            detail: string.Join("; ", invalid.Errors.Select(e => $"{e.Path}: {e.Message}")),
            extensions: new Dictionary<string, object?> { ["errors"] = invalid.Errors }),
        JourneyResult.Conflict conflict => Http.Problem(StatusCodes.Status409Conflict, "Not possible now", conflict.Reason),
        _ => throw new InvalidOperationException("Unexpected journey result."),
    };

    private static ProblemHttpResult NotFound(string id) => Http.Problem(StatusCodes.Status404NotFound, "Unknown journey", $"No journey is named '{id}'.");

    private static JsonHttpResult<T> Json<T>(T value) => TypedResults.Json(value, NudgeJson.Options);
}

/// <summary>A journey at a glance.</summary>
public sealed record JourneySummary(string Id, JourneyStatus Status, int? PublishedVersion, int LatestVersion, bool HasDraft, DateTimeOffset UpdatedAt)
{
    public static JourneySummary Of(JourneyHead head) => new(head.Id, head.Status, head.PublishedVersion, head.LatestVersion, head.Draft is not null, head.UpdatedAt);
}

/// <summary>A journey after a change: its summary and the definition the change concerns (the published or the draft).</summary>
public sealed record JourneyChange(JourneySummary Journey, JourneyDefinition? Definition);

public sealed record JourneyDetail(JourneySummary Journey, JourneyDefinition? Published, JourneyDefinition? Draft);

public sealed record JourneyValidation(bool Valid, IReadOnlyList<ValidationIssue> Errors, IReadOnlyList<ValidationIssue> Warnings);

public sealed record JourneyImpact(string Journey, int? PublishedVersion, int? DraftVersion, int Running, IReadOnlyList<StepPosition> Positions);

/// <summary>How many running instances of <see cref="Version"/> sit at <see cref="Step"/> (null: not yet at a step).</summary>
public sealed record StepPosition(int Version, string? Step, int Instances);

/// <summary>One instance of a journey for a customer: where it is, why, and what it sent.</summary>
public sealed record CustomerJourney(
    string Journey, int Version, string InstanceId, string? BusinessKey, InstanceStatus Status, string? Step, DateTimeOffset? WaitingUntil,
    DateTimeOffset StartedAt, DateTimeOffset? EndedAt, string? EndReason, bool Converted, bool HeldOut, IReadOnlyDictionary<string, string> Branches,
    IReadOnlyList<HistoryEntry> History, IReadOnlyList<CustomerJourney.Delivery> Deliveries)
{
    public sealed record Delivery(string DeliveryId, string Channel, string Template, string Status, string? Reason, DateTimeOffset ScheduledFor, DateTimeOffset? SentAt);
}
