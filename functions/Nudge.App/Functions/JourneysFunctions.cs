using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>The marketer API for journeys: drafts, validation, publishing, lifecycle, versions, impact, presets.</summary>
public static class JourneysFunctions
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(Http.RequireMarketerKey).WithTags("Journeys");
        api.MapGet("/journeys", ListAsync).WithSummary("List journeys with their status and versions.");
        api.MapPost("/journeys", SaveDraftAsync).WithSummary("Create or replace a journey's draft (validated).");
        api.MapGet("/journeys/presets", () => Results.Json(JourneyCatalog.Presets, NudgeJson.Options)).WithSummary("The ready journeys from the case studies.");
        api.MapPost("/journeys/validate", ValidateAsync).WithSummary("Validate a journey definition without saving it.");
        api.MapGet("/journeys/{id}", GetAsync).WithSummary("A journey's status, published definition and draft.");
        api.MapPut("/journeys/{id}/draft", SaveDraftForAsync).WithSummary("Replace a journey's draft.");
        api.MapPost("/journeys/{id}/{action}", ActAsync).WithSummary("publish | pause | resume | archive | simulate (body: { scenario, useDraft }).");
        api.MapGet("/journeys/{id}/versions", VersionsAsync).WithSummary("Every published version.");
        api.MapGet("/journeys/{id}/impact", ImpactAsync).WithSummary("How many running instances sit at each step of each version.");
        api.MapGet("/customers/{platform}/{customerId}/journeys", CustomerJourneysAsync).WithSummary("Where a customer is in which journey, and why.");
    }

    private static async Task<IResult> ListAsync(IJourneyDefinitionStore store, CancellationToken cancellationToken) =>
        Results.Json((await store.ListHeadsAsync(cancellationToken)).OrderBy(h => h.Id, StringComparer.Ordinal).Select(Summary), NudgeJson.Options);

    private static async Task<IResult> GetAsync(string id, IJourneyDefinitionStore store, CancellationToken cancellationToken)
    {
        var head = await store.GetHeadAsync(id, cancellationToken);
        if (head is null)
        {
            return NotFound(id);
        }

        var published = head.Value.PublishedVersion is { } version ? await store.GetVersionAsync(id, version, cancellationToken) : null;
        return Results.Json(new { journey = Summary(head.Value), published, draft = head.Value.Draft }, NudgeJson.Options);
    }

    private static async Task<IResult> ValidateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        if (definition is null)
        {
            return problem!;
        }

        var (errors, warnings) = JourneyValidator.Validate(definition);
        return Results.Json(new { valid = errors.Count == 0, errors, warnings }, NudgeJson.Options);
    }

    private static async Task<IResult> SaveDraftAsync(HttpRequest request, JourneyLibrary library, CancellationToken cancellationToken)
    {
        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        return definition is null ? problem! : Map(await library.SaveDraftAsync(definition, cancellationToken));
    }

    private static async Task<IResult> SaveDraftForAsync(string id, HttpRequest request, JourneyLibrary library, CancellationToken cancellationToken)
    {
        var (definition, problem) = await ReadDefinitionAsync(request, cancellationToken);
        if (definition is null)
        {
            return problem!;
        }

        return definition.Id != id
            ? Http.Problem(StatusCodes.Status400BadRequest, "Id mismatch", $"The body's id '{definition.Id}' is not '{id}'.")
            : Map(await library.SaveDraftAsync(definition, cancellationToken));
    }

    private static async Task<IResult> ActAsync(
        string id, string action, HttpRequest request, JourneyLibrary library, IJourneyDefinitionStore store, IProfileStore profiles, PipelineSettings settings,
        CancellationToken cancellationToken) => action switch
    {
        "simulate" => await SimulationFunctions.SimulateAsync(id, request, store, profiles, settings, cancellationToken),
        "publish" => Map(await library.PublishAsync(id, cancellationToken)),
        "pause" => Map(await library.PauseAsync(id, cancellationToken)),
        "resume" => Map(await library.ResumeAsync(id, cancellationToken)),
        "archive" => Map(await library.ArchiveAsync(id, cancellationToken)),
        _ => Http.Problem(StatusCodes.Status404NotFound, "Unknown action", $"'{action}' is not one of publish, pause, resume, archive, simulate."),
    };

    private static async Task<IResult> VersionsAsync(string id, IJourneyDefinitionStore store, CancellationToken cancellationToken)
    {
        if (await store.GetHeadAsync(id, cancellationToken) is null)
        {
            return NotFound(id);
        }

        var versions = await store.ListVersionsAsync(id, cancellationToken);
        return Results.Json(versions.OrderBy(v => v.Version), NudgeJson.Options);
    }

    private static async Task<IResult> ImpactAsync(string id, IJourneyDefinitionStore store, JourneyLibrary library, CancellationToken cancellationToken)
    {
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

    private static async Task<IResult> CustomerJourneysAsync(string platform, string customerId, IJourneyInstanceStore instances, IDeliveryLog deliveries, CancellationToken cancellationToken)
    {
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
