using Nudge.App.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/deliveries/replay?channel=sms&amp;max=100</c> (marketer key): takes dead-lettered deliveries off the
/// channel's poison queue, gives each a fresh set of attempts and queues it again. The delivery id stays the same,
/// so a delivery that did go out after all is not sent twice.
/// </summary>
public sealed class DeliveryReplayFunction(IDeliveryDeadLetters deadLetters, IDeliveryLog deliveries, IWorkQueue queue, IOptions<NudgeOptions> options)
{
    [Function("DeliveryReplay")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "deliveries/replay")] HttpRequest request, CancellationToken cancellationToken)
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

        var replayed = 0;
        foreach (var message in await deadLetters.TakeAsync(channel, max, cancellationToken))
        {
            var row = await deliveries.GetAsync(message.Customer, message.DeliveryId, cancellationToken);
            if (row is not null && row.Value.Status == DeliveryStatus.Failed)
            {
                await deliveries.TryUpdateAsync(row.Value with { Status = DeliveryStatus.Queued, Attempts = 0, Reason = "replayed from the poison queue" }, row.Version, cancellationToken);
            }

            await queue.EnqueueDeliveryAsync(channel, message, null, cancellationToken);
            replayed++;
        }

        return Results.Json(new { channel, replayed });
    }
}
