using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>The marketer API for segments: named audiences over profile facts, which journeys can start on.</summary>
public static class SegmentsFunctions
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").AddEndpointFilter(Http.RequireMarketerKey).WithTags("Segments");
        api.MapGet("/segments", async (SegmentLibrary segments, CancellationToken ct) => Results.Json(await segments.AllAsync(ct), NudgeJson.Options))
            .WithSummary("List segments.");
        api.MapPut("/segments/{id}", SaveAsync).WithSummary("Create or replace a segment (body: { name, condition }).");
        api.MapGet("/segments/{id}/size", SizeAsync).WithSummary("How many stored customers are in the segment now.");
    }

    private static async Task<IResult> SaveAsync(string id, HttpRequest request, SegmentLibrary segments, CancellationToken cancellationToken)
    {
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

    private static async Task<IResult> SizeAsync(string id, SegmentLibrary segments, IProfileStore profiles, CancellationToken cancellationToken)
    {
        var segment = (await segments.AllAsync(cancellationToken)).FirstOrDefault(s => s.Id == id);
        if (segment is null)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Unknown segment", $"No segment is named '{id}'.");
        }

        int members = 0, customers = 0;
        await foreach (var profile in profiles.ListAsync(cancellationToken))
        {
            customers++;
            members += segment.Condition.Evaluate(CustomerFacts.OfProfile(profile)) ? 1 : 0;
        }

        return Results.Json(new { segment = id, members, customers }, NudgeJson.Options);
    }
}
