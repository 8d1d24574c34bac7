using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/webhooks/woocommerce</c>: answer WooCommerce's unsigned ping, find the site by
/// <c>X-WC-Webhook-Source</c>, verify <c>X-WC-Webhook-Signature</c> (base64 HMAC-SHA256 of the raw body with the
/// webhook's secret), then map <c>X-WC-Webhook-Topic</c> and make the event durable.
/// </summary>
public sealed class WooCommerceWebhookFunction(ShopRegistry shops, TimeProvider clock, ILogger<IngestHandler> logger)
{
    private const string Source = "WooCommerce";

    [Function("WooCommerceWebhook")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/woocommerce")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (!Http.IsJson(request) && request.ContentLength is < 64 && await Http.ReadBodyAsync(request, 64, cancellationToken) is { } ping && WooCommerceWebhook.IsPing(ping.Span))
        {
            return Results.Json(new { status = "pong" }); // sent once when the webhook is saved; nothing to verify or keep
        }

        var (body, problem) = await WebhookIntake.ReadJsonAsync(request, Source, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (WooCommerceWebhook.ShopOf(request.Headers["X-WC-Webhook-Source"]) is not { } shop)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers", "X-WC-Webhook-Source must be the site's URL.");
        }

        if (shops.Find(WooCommerceWebhook.Platform, shop) is not { WebhookSecret: not null } account)
        {
            return WebhookIntake.UnknownShop(logger, Source);
        }

        if (!account.IsSigned(body.Span, request.Headers["X-WC-Webhook-Signature"]))
        {
            return WebhookIntake.BadSignature(logger, Source, "X-WC-Webhook-Signature");
        }

        var topic = request.Headers["X-WC-Webhook-Topic"].ToString();
        var deliveryId = request.Headers["X-WC-Webhook-Delivery-ID"].ToString();
        if (topic.Length == 0 || !JsonFields.IsValidId(deliveryId))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers", "X-WC-Webhook-Topic and X-WC-Webhook-Delivery-ID are required.");
        }

        return await WebhookIntake.CompleteAsync(request, WooCommerceWebhook.Parse(topic, shop, deliveryId, body.Span, new DeliveryTimes(clock.GetUtcNow())), Source, topic, deliveryId, body, logger, cancellationToken);
    }
}
