using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/webhooks/cafe24</c>: find the mall by <c>resource.mall_id</c>, verify the request by the configured
/// scheme (<see cref="Cafe24Options.Verification"/>), map <c>event_no</c> and make the event durable.
/// </summary>
public sealed class Cafe24WebhookFunction(ShopRegistry shops, IOptions<Cafe24Options> options, TimeProvider clock, ILogger<IngestHandler> logger)
{
    private const string Source = "Cafe24";

    [Function("Cafe24Webhook")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/cafe24")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, problem) = await WebhookIntake.ReadJsonAsync(request, Source, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (Cafe24Webhook.MallIdOf(body.Span) is not { } mallId)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid payload", "The body must be a JSON object naming its mall ('resource.mall_id' or 'mall_id').");
        }

        var settings = options.Value;
        if (shops.Find(Cafe24Webhook.Platform, mallId) is not { } shop)
        {
            return WebhookIntake.UnknownShop(logger, Source);
        }

        if (!IsVerified(request, body.Span, shop, settings))
        {
            return WebhookIntake.BadSignature(logger, Source, settings.Verification == Cafe24Options.HmacSha256 ? settings.SignatureHeader : settings.ApiKeyHeader);
        }

        var deliveryId = Cafe24Webhook.DeliveryIdOf(request.Headers[settings.DeliveryIdHeader], body.Span);
        var parse = Cafe24Webhook.Parse(mallId, deliveryId, body.Span, settings.EventMap(), new DeliveryTimes(clock.GetUtcNow()));
        return await WebhookIntake.CompleteAsync(request, parse, Source, "webhook", deliveryId, body, logger, cancellationToken);
    }

    private static bool IsVerified(HttpRequest request, ReadOnlySpan<byte> body, ShopAccount shop, Cafe24Options settings)
    {
        if (settings.Verification == Cafe24Options.HmacSha256)
        {
            return shop.IsSigned(body, request.Headers[settings.SignatureHeader]);
        }

        return Core.SecretComparison.Matches(request.Headers[settings.ApiKeyHeader].ToString(), shop.ApiKey ?? shop.WebhookSecret);
    }
}
