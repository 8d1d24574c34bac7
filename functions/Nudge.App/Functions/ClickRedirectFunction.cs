using Microsoft.Azure.Functions.Worker;
using Nudge.Channels;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>GET /api/r/{token}</c>: the app's own click redirect (SMS and Kakao have no open tracking): records the click
/// against the delivery and sends the browser on to the template's link or the recommended product's page. Only
/// those are reachable (<see cref="ClickTargets"/>), so the endpoint is no open redirect.
/// </summary>
public sealed class ClickRedirectFunction(LinkTokens tokens, IDeliveryLog deliveries, IDeliveryEvents events, ClickTargets targets, Nudge.Core.Results.ResultsRecorder results)
{
    [Function("ClickRedirect")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "r/{token}")] HttpRequest request, string token, CancellationToken cancellationToken)
    {
        if (tokens.ReadClick(token) is not { } click)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Unknown link", "This link is not valid.");
        }

        var row = await deliveries.GetAsync(click.Customer, click.DeliveryId, cancellationToken);
        var target = row is null ? null : await targets.ResolveAsync(click, row.Value, cancellationToken);
        if (target is null)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Unknown link", "This link does not lead anywhere any more.");
        }

        // Counted first: the click happened when the request came, whatever fails after. A delivery's clicks count once
        // in its journey's results (a click report from the provider is the same fact).
        await results.RecordAsync(Nudge.Core.Results.ResultFacts.OfDelivery(row!.Value, Nudge.Core.Results.Measures.Clicked, results.Now), cancellationToken);
        await events.RecordAsync(click.Customer, click.DeliveryId, "clicked", click.Link, cancellationToken);
        return Results.Redirect(target);
    }
}
