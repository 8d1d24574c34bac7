using Microsoft.AspNetCore.Http.HttpResults;
using Nudge.App.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/deliveries/replay?channel=sms&amp;max=100</c> (marketer key): takes dead-lettered deliveries off the
/// channel's poison queue (Storage queues) or dead-letter queue (Service Bus), gives each a fresh set of attempts and
/// queues it again (<see cref="DeliveryReplayHandler"/>).
/// </summary>
public sealed class DeliveryReplayFunction(DeliveryReplayHandler replay, IOptions<NudgeOptions> options)
{
    [Function("DeliveryReplay")]
    [System.ComponentModel.Description("Send again up to max (1-1000, default 100) dead-lettered deliveries of one channel, each still once by its id.")]
    public async Task<Results<JsonHttpResult<DeliveriesReplayed>, ProblemHttpResult>> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deliveries/replay")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var channel = request.Query["channel"].ToString();
        if (!ChannelNames.IsKnown(channel))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid channel", "'channel' must be one of email, sms, kakao.");
        }

        var (max, problem) = Http.ReplayMax(request);
        if (problem is not null)
        {
            return problem;
        }

        var replayed = await replay.ReplayAsync(channel, max, cancellationToken);
        return TypedResults.Json(new DeliveriesReplayed(channel, replayed), Core.NudgeJson.Options);
    }

    public sealed record DeliveriesReplayed(string Channel, int Replayed);
}
