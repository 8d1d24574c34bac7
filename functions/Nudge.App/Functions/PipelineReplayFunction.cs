using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.App.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/pipeline/replay?queue=ingest-batches&amp;max=100</c> (marketer key): moves messages a pipeline function
/// gave up on from <c>&lt;queue&gt;-poison</c> back onto <c>&lt;queue&gt;</c>, unchanged, and answers how many it moved.
/// Processing one again is as safe as a redelivery (an intake batch recognizes the event rows it claimed by its batch
/// id; an event that already started a journey starts none again). A body that cannot be sent again (not a JSON
/// object, or not base64 as the queues carry it) stays on the poison queue for a person to look at.
/// Dead-lettered deliveries have their own replay (<see cref="DeliveryReplayFunction"/>): they need fresh attempts.
/// </summary>
public sealed class PipelineReplayFunction(IPipelineDeadLetters deadLetters, IOptions<NudgeOptions> options)
{
    [Function("PipelineReplay")]
    [System.ComponentModel.Description("Move up to max (1-1000, default 100) dead-lettered messages of one pipeline queue back to it.")]
    public async Task<Results<JsonHttpResult<PipelineReplayed>, ProblemHttpResult>> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "pipeline/replay")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var queue = request.Query["queue"].ToString();
        if (!deadLetters.Queues.Contains(queue))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid queue",
                $"'queue' must be one of {string.Join(", ", deadLetters.Queues)} (dead-lettered deliveries: POST /api/deliveries/replay?channel=).");
        }

        var (max, problem) = Http.ReplayMax(request);
        if (problem is not null)
        {
            return problem;
        }

        return TypedResults.Json(new PipelineReplayed(queue, await deadLetters.ReplayAsync(queue, max, cancellationToken)), Core.NudgeJson.Options);
    }

    public sealed record PipelineReplayed(string Queue, int Replayed);
}
