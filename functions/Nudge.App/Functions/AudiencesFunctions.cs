using System.ComponentModel;
using System.Text.Json;
using Azure.Storage.Queues.Models;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.App.Journeys;
using Nudge.Core;
using Nudge.Core.Segments;
using Nudge.Storage;

namespace Nudge.App.Functions;

/// <summary>
/// The marketer API that starts a journey for a segment's members at a paced rate (<c>POST /api/journeys/{id}/audiences</c>),
/// its progress, and the queue function that starts each slice of members.
/// </summary>
public sealed partial class AudiencesFunctions(IOptions<NudgeOptions> options, AudienceRunHandler audiences, HostJson host, ILogger<AudiencesFunctions> logger)
{
    /// <summary>
    /// The body: <c>{"segment":"no-order-14d-after-signup","perMinute":60}</c> (<c>perMinute</c> optional, at most the
    /// first channel's rate). An <c>Idempotency-Key</c> header makes a repeated request answer the first one's run.
    /// </summary>
    public sealed record AudienceRequest(string? Segment, double? PerMinute);

    [Function("JourneyAudiences")]
    [Microsoft.AspNetCore.Mvc.ProducesResponseType(StatusCodes.Status202Accepted)]
    [Description("Start the journey for a segment's members as of now, at the pace its first channel's rate limits carry (or a lower perMinute): 202 with the run's progress.")]
    public async Task<Results<JsonHttpResult<AudienceRunProgress>, ProblemHttpResult>> StartAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "journeys/{id}/audiences")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        AudienceRequest? body;
        try
        {
            body = await Http.ReadBodyAsync(request, 4096, cancellationToken) is { } bytes ? JsonSerializer.Deserialize<AudienceRequest>(bytes.Span, NudgeJson.Options) : null;
        }
        catch (JsonException)
        {
            body = null;
        }

        if (body?.Segment is not { Length: > 0 } segment)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid audience", "Send {\"segment\":\"<segment id>\"} and optionally \"perMinute\" (at most 4 KiB of JSON).");
        }

        var key = request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 128 || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-')))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid idempotency key", "An Idempotency-Key is 1–128 of A–Z, a–z, 0–9, '.', '_', ':' and '-'.");
        }

        switch (await audiences.StartAsync(id, segment, body.PerMinute, cancellationToken, key.Length == 0 ? null : key))
        {
            case AudienceStart.Started started:
                LogStarted(logger, started.Run.Id, id, started.Run.Members, started.Run.PerMinute, started.New);
                request.HttpContext.Response.Headers.Location = $"/api/journeys/{id}/audiences/{started.Run.Id}";
                return TypedResults.Json(AudienceRunProgress.Of(started.Run), NudgeJson.Options, statusCode: StatusCodes.Status202Accepted);
            case AudienceStart.UnknownSegment:
                return Http.Problem(StatusCodes.Status404NotFound, "Unknown segment", "No segment has that id.");
            case AudienceStart.UnknownJourney:
                return Http.Problem(StatusCodes.Status404NotFound, "Unknown journey", "No journey has that id.");
            case AudienceStart.JourneyNotActive notActive:
                return Http.Problem(StatusCodes.Status409Conflict, "Journey not active", $"The journey is {notActive.Status.ToString().ToLowerInvariant()}: publish or resume it first.");
            case AudienceStart.InvalidPace pace:
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid pace", pace.Problem);
            case AudienceStart.IndexLoading:
                return Http.SegmentIndexLoading(request);
            default:
                throw new InvalidOperationException("Unknown audience start outcome.");
        }
    }

    [Function("JourneyAudienceItem")]
    [Description("An audience run's progress: members, started, skipped by reason, remaining, pace and ETA.")]
    public async Task<Results<JsonHttpResult<AudienceRunProgress>, ProblemHttpResult>> GetAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/audiences/{runId}")] HttpRequest request, string id, string runId, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        return AudienceRunHandler.IsRunId(runId) && await audiences.ProgressAsync(id, runId, cancellationToken) is { } progress
            ? TypedResults.Json(progress, NudgeJson.Options)
            : Http.Problem(StatusCodes.Status404NotFound, "Unknown audience run", "The journey has no audience run with that id.");
    }

    /// <summary>
    /// Starts one slice of an audience run's members; the slice queues the next after the pace's delay. When the last
    /// attempt fails too, the run shows stalled (and why) while the message goes to the poison queue.
    /// </summary>
    [Function("AudienceSlices")]
    public async Task SliceAsync(
        [QueueTrigger(StorageNames.AudienceSlicesQueue, Connection = "AzureWebJobsStorage")] QueueMessage message, [DurableClient] DurableTaskClient journeys, CancellationToken ct)
    {
        var slice = JsonSerializer.Deserialize<AudienceSliceMessage>(message.Body.ToMemory().Span, NudgeJson.Options) ?? throw new InvalidDataException("Empty audience slice message.");
        var run = await QueueAttempts.StallingOnLastAttemptAsync(message, host, () => audiences.RunSliceAsync(slice, new DurableJourneyRuntime(journeys), ct), async why =>
        {
            var problem = $"{why}: replay the audience-slices queue to resume from its checkpoint";
            LogStalled(logger, slice.RunId, (await audiences.StallAsync(slice.RunId, problem, ct))?.Status ?? "unknown");
        });
        LogSlice(logger, slice.RunId, slice.Slice, run?.Status ?? "unknown", run?.Started ?? 0, run?.Done ?? 0);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Audience run {RunId} for journey {JourneyId}: {Members} members at {PerMinute} per minute; new: {New}")]
    private static partial void LogStarted(ILogger logger, string runId, string journeyId, long members, double perMinute, bool @new);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Audience run {RunId}: its slice failed on the last attempt; the run is {Status}")]
    private static partial void LogStalled(ILogger logger, string runId, string status);

    [LoggerMessage(Level = LogLevel.Information, Message = "Audience run {RunId} slice {Slice}: {Status}, {Started} started of {Done} done")]
    private static partial void LogSlice(ILogger logger, string runId, int slice, string status, long started, long done);
}
