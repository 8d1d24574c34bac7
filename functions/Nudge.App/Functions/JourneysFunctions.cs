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
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys")] HttpRequest request, CancellationToken cancellationToken) =>
        Http.RequireMarketerKey(request, options.Value)
        ?? Results.Json((await store.ListHeadsAsync(cancellationToken)).OrderBy(h => h.Id, StringComparer.Ordinal).Select(Summary), NudgeJson.Options);

    /// <summary>Create or replace a journey's draft (validated).</summary>
    [Function("JourneySave")]
    public async Task<IResult> SaveDraftAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys")] HttpRequest request, CancellationToken cancellationToken)
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
    public IResult Presets([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/presets")] HttpRequest request) =>
        Http.RequireMarketerKey(request, options.Value) ?? Results.Json(JourneyCatalog.Presets, NudgeJson.Options);

    /// <summary>Validate a journey definition without saving it.</summary>
    [Function("JourneyValidate")]
    public async Task<IResult> ValidateAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys/validate")] HttpRequest request, CancellationToken cancellationToken)
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
        return Results.Json(new { valid = errors.Count == 0, errors, warnings }, NudgeJson.Options);
    }

    /// <summary>A journey's status, published definition and draft.</summary>
    [Function("JourneyItem")]
    public async Task<IResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
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
        return Results.Json(new { journey = Summary(head.Value), published, draft = head.Value.Draft }, NudgeJson.Options);
    }

    /// <summary>Replace a journey's draft.</summary>
    [Function("JourneyDraft")]
    public async Task<IResult> SaveDraftForAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "journeys/{id}/draft")] HttpRequest request, string id, CancellationToken cancellationToken)
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

        return definition.Id != id
            ? Http.Problem(StatusCodes.Status400BadRequest, "Id mismatch", $"The body's id '{definition.Id}' is not '{id}'.")
            : Map(await library.SaveDraftAsync(definition, cancellationToken));
    }

    /// <summary>publish | pause | resume | archive | simulate (body: { scenario, useDraft }).</summary>
    [Function("JourneyAction")]
    public async Task<IResult> ActAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys/{id}/{action}")] HttpRequest request, string id, string action, CancellationToken cancellationToken) =>
        Http.RequireMarketerKey(request, options.Value) ?? action switch
        {
            "simulate" => await SimulationFunctions.SimulateAsync(id, request, store, profiles, settings, cancellationToken),
            "publish" => Map(await library.PublishAsync(id, cancellationToken)),
            "pause" => Map(await library.PauseAsync(id, cancellationToken)),
            "resume" => Map(await library.ResumeAsync(id, cancellationToken)),
            "archive" => Map(await library.ArchiveAsync(id, cancellationToken)),
            _ => Http.Problem(StatusCodes.Status404NotFound, "Unknown action", $"'{action}' is not one of publish, pause, resume, archive, simulate."),
        };

    /// <summary>Every published version.</summary>
    [Function("JourneyVersions")]
    public async Task<IResult> VersionsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/versions")] HttpRequest request, string id, CancellationToken cancellationToken)
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
        return Results.Json(versions.OrderBy(v => v.Version), NudgeJson.Options);
    }

    /// <summary>How many running instances sit at each step of each version.</summary>
    [Function("JourneyImpact")]
    public async Task<IResult> ImpactAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/impact")] HttpRequest request, string id, CancellationToken cancellationToken)
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
        return Results.Json(new
        {
            journey = id,
            publishedVersion = head.Value.PublishedVersion,
            draftVersion = head.Value.Draft?.Version,
            running = positions.Sum(p => p.Instances),
            positions = positions.Select(p => new { version = p.Version, step = p.Step, instances = p.Instances }),
        }, NudgeJson.Options);
    }

    /// <summary>Where a customer is in which journey, and why.</summary>
    [Function("CustomerJourneys")]
    public async Task<IResult> CustomerJourneysAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "customers/{platform}/{customerId}/journeys")] HttpRequest request, string platform, string customerId,
        CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var customer = new CustomerKey(platform, customerId);
        var sent = (await deliveries.ListForCustomerAsync(customer, cancellationToken)).ToLookup(d => d.JourneyId);
        var result = new List<object>();
        await foreach (var instance in instances.ListForCustomerAsync(customer, cancellationToken))
        {
            result.Add(new
            {
                journey = instance.Definition.Id,
                version = instance.Definition.Version,
                instanceId = instance.InstanceId,
                businessKey = instance.BusinessKey,
                status = instance.Status,
                step = instance.CurrentStep,
                waitingUntil = instance.WaitingUntil,
                startedAt = instance.StartedAt,
                endedAt = instance.EndedAt,
                endReason = instance.EndReason,
                converted = instance.Converted,
                heldOut = instance.HeldOut,
                branches = instance.Branches,
                history = instance.History,
                deliveries = sent[instance.Definition.Id].Select(d => new { d.DeliveryId, d.Channel, d.Template, d.Status, d.Reason, d.ScheduledFor, d.SentAt }),
            });
        }

        return Results.Json(result, NudgeJson.Options);
    }

    private static async Task<(JourneyDefinition? Definition, IResult? Problem)> ReadDefinitionAsync(HttpRequest request, CancellationToken cancellationToken)
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

    private static IResult Map(JourneyResult result) => result switch
    {
        JourneyResult.Ok ok => Results.Json(new { journey = Summary(ok.Head), definition = ok.Definition ?? ok.Head.Draft }, NudgeJson.Options),
        JourneyResult.NotFound notFound => NotFound(notFound.JourneyId),
        JourneyResult.Invalid invalid => Results.Problem(
            statusCode: StatusCodes.Status400BadRequest, title: "Invalid journey",
            detail: string.Join("; ", invalid.Errors.Select(e => $"{e.Path}: {e.Message}")),
            extensions: new Dictionary<string, object?> { ["errors"] = invalid.Errors }),
        JourneyResult.Conflict conflict => Http.Problem(StatusCodes.Status409Conflict, "Not possible now", conflict.Reason),
        _ => throw new InvalidOperationException("Unexpected journey result."),
    };

    private static IResult NotFound(string id) => Http.Problem(StatusCodes.Status404NotFound, "Unknown journey", $"No journey is named '{id}'.");

    private static object Summary(JourneyHead head) => new
    {
        id = head.Id,
        status = head.Status,
        publishedVersion = head.PublishedVersion,
        latestVersion = head.LatestVersion,
        hasDraft = head.Draft is not null,
        updatedAt = head.UpdatedAt,
    };
}
