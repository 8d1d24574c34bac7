using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary><c>GET /api/deliveries?platform=&amp;customerId=</c>: what was sent (or held back) to one customer, for marketers.</summary>
public sealed class DeliveriesFunction(IOptions<NudgeOptions> options, IDeliveryLog deliveries)
{
    [Function("Deliveries")]
    [Description("What was sent (or held back, with the reason) to one customer: ?platform=&customerId=.")]
    public async Task<Results<JsonHttpResult<IReadOnlyList<DeliveryView>>, ProblemHttpResult>> HandleAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "deliveries")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, options.Value) is { } denied)
        {
            return denied;
        }

        var platform = request.Query["platform"].ToString();
        var customerId = request.Query["customerId"].ToString();
        if (platform.Length == 0 || customerId.Length == 0)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing query parameters", "Both 'platform' and 'customerId' are required.");
        }

        var records = await deliveries.ListForCustomerAsync(new CustomerKey(platform, customerId), cancellationToken);
        return TypedResults.Json<IReadOnlyList<DeliveryView>>(
            [.. records.Select(r => new DeliveryView(r.Channel, r.Template, r.Status, r.ScheduledFor, r.SentAt, r.JourneyId, r.DeliveryId, r.Reason))], NudgeJson.Options);
    }

    public sealed record DeliveryView(
        string Channel, string Template, string Status, DateTimeOffset ScheduledFor, DateTimeOffset? SentAt,
        string Journey, string DeliveryId, string? Reason);
}
