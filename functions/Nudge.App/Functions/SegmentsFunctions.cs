using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Segments;
using System.Globalization;

namespace Nudge.App.Functions;

/// <summary>The marketer API for segments: named audiences over profile facts, which journeys can start on.</summary>
public sealed class SegmentsFunctions(
    IOptions<NudgeOptions> options, SegmentLibrary segments, PipelineSettings settings, TimeProvider clock, SegmentIndex index, SegmentIndexLoader loader)
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

    /// <summary>How many stored customers are in the segment now, from the segment index (loaded on the first such request: until then 503 with Retry-After).</summary>
    [Function("SegmentSize")]
    public async Task<IResult> SizeAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "segments/{id}/size")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var (segment, all, problem) = await IndexedSegmentAsync(request, id, cancellationToken);
        if (segment is null)
        {
            return problem!;
        }

        await loader.RefreshForRequestAsync(SegmentIndexLoader.RefreshInterval, SegmentIndexLoader.RequestWait, cancellationToken);
        return Results.Json(new { segment = id, members = index.Count(segment, all, clock.GetUtcNow(), settings.DefaultTimeZone), customers = index.Customers }, NudgeJson.Options);
    }

    /// <summary>
    /// A page of the segment's members now (<c>limit</c> 1–1,000, default 100): their platform and customer id, and
    /// the <c>cursor</c> of the next page (absent on the last). A cursor is valid while the app instance that made it
    /// runs; after a restart the list starts again.
    /// </summary>
    [Function("SegmentMembers")]
    public async Task<IResult> MembersAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "segments/{id}/members")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var limitText = request.Query["limit"].ToString();
        var limit = 100;
        if (limitText.Length > 0 && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPage))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid limit", $"'limit' must be a whole number from 1 to {MaxPage}.");
        }

        var (segment, all, problem) = await IndexedSegmentAsync(request, id, cancellationToken);
        if (segment is null)
        {
            return problem!;
        }

        var cursorText = request.Query["cursor"].ToString();
        var after = -1;
        if (cursorText.Length > 0)
        {
            var parts = cursorText.Split('.');
            if (parts.Length != 2 || parts[0] != index.Generation || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out after))
            {
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid cursor", "The cursor is not one this app gave (or the app restarted since): start the list again without a cursor.");
            }
        }

        await loader.RefreshForRequestAsync(SegmentIndexLoader.RefreshInterval, SegmentIndexLoader.RequestWait, cancellationToken);
        var (members, next) = index.Members(segment, all, clock.GetUtcNow(), settings.DefaultTimeZone, after, limit);
        return Results.Json(new SegmentMembersPage(id, members.Select(m => new SegmentMember(m.Platform, m.CustomerId)).ToList(),
            next is { } row ? $"{index.Generation}.{row.ToString(CultureInfo.InvariantCulture)}" : null), NudgeJson.Options);
    }

    private const int MaxPage = 1000;

    /// <summary>The segment named <paramref name="id"/> and all the shop's segments once the index is loaded; else the 404 or 503 to answer.</summary>
    private async Task<(Segment? Segment, IReadOnlyList<Segment> All, IResult? Problem)> IndexedSegmentAsync(HttpRequest request, string id, CancellationToken cancellationToken)
    {
        var all = await segments.AllAsync(cancellationToken);
        if (all.FirstOrDefault(s => s.Id == id) is not { } segment)
        {
            return (null, all, UnknownSegment(id));
        }

        return await loader.WaitLoadedAsync(IndexWait, cancellationToken) ? (segment, all, null) : (null, all, Http.SegmentIndexLoading(request));
    }

    /// <summary>How long a request waits for the index to load before it answers 503.</summary>
    private static readonly TimeSpan IndexWait = TimeSpan.FromSeconds(20);

    private static IResult UnknownSegment(string id) => Http.Problem(StatusCodes.Status404NotFound, "Unknown segment", $"No segment is named '{id}'.");
}

public sealed record SegmentMember(string Platform, string CustomerId);

public sealed record SegmentMembersPage(string Segment, IReadOnlyList<SegmentMember> Members, string? Cursor);
