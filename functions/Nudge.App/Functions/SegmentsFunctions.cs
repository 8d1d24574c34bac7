using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>The marketer API for segments: named audiences over profile facts, which journeys can start on.</summary>
public sealed class SegmentsFunctions(IOptions<NudgeOptions> options, SegmentLibrary segments, IProfileStore profiles, PipelineSettings settings, TimeProvider clock)
{
    [Function("Segments")]
    public async Task<IResult> ListAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "segments")] HttpRequest request, CancellationToken cancellationToken) =>
        Http.RequireMarketerKey(request, options.Value) ?? Results.Json(await segments.AllAsync(cancellationToken), NudgeJson.Options);

    /// <summary>Create or replace a segment (body: { name, condition }).</summary>
    [Function("SegmentItem")]
    public async Task<IResult> SaveAsync([HttpTrigger(AuthorizationLevel.Anonymous, "put", Route = "segments/{id}")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var body = await Http.ReadBodyAsync(request, 64 * 1024, cancellationToken);
        Segment? segment;
        try
        {
            segment = body is { } b ? JsonSerializer.Deserialize<Segment>(b.Span, NudgeJson.Options) : null;
        }
        catch (JsonException e)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid segment", e.Message);
        }

        if (segment is null || segment.Id != id)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid segment", $"Send a segment whose id is '{id}'.");
        }

        var errors = JourneyValidator.ValidateSegment(segment);
        if (errors.Count > 0)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid segment",
                detail: string.Join("; ", errors.Select(e => $"{e.Path}: {e.Message}")), extensions: new Dictionary<string, object?> { ["errors"] = errors });
        }

        await segments.SaveAsync(segment, cancellationToken);
        return Results.Json(segment, NudgeJson.Options);
    }

    /// <summary>How many stored customers are in the segment now.</summary>
    [Function("SegmentSize")]
    public async Task<IResult> SizeAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "segments/{id}/size")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var segment = (await segments.AllAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);
        if (segment is null)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Unknown segment", $"No segment is named '{id}'.");
        }

        int members = 0, customers = 0;
        var now = clock.GetUtcNow();
        await foreach (var profile in profiles.ListAsync(cancellationToken))
        {
            customers++;
            var at = new EvaluationTime(now, CustomerContexts.ZoneOf(profile, settings.DefaultTimeZone));
            members += segment.Condition.Evaluate(CustomerFacts.OfProfile(profile), at) ? 1 : 0;
        }

        return Results.Json(new { segment = id, members, customers }, NudgeJson.Options);
    }
}
