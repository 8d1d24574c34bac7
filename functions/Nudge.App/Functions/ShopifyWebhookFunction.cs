using Microsoft.Azure.Functions.Worker;
using System.Text.RegularExpressions;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/webhooks/shopify</c>: find the shop, verify the HMAC over the raw bytes with its secret, then
/// parse, then make the event durable and acknowledge; journeys run asynchronously. The event is identified by
/// <c>X-Shopify-Event-Id</c> where Shopify sends it, else by <c>X-Shopify-Webhook-Id</c>. Every header is also read
/// under its newer name without the <c>X-</c> prefix (<c>shopify-topic</c>, …), as Shopify's own libraries do. Only
/// what is really the sender's fault is a 4xx (wrong signature, unknown shop, not JSON, too large, no routing
/// headers); a signed body Nudge cannot use is acknowledged with the reason.
/// </summary>
public sealed partial class ShopifyWebhookFunction(ShopRegistry shops, TimeProvider clock, ILogger<IngestHandler> logger)
{
    public const int MaxBodyBytes = WebhookIntake.MaxBodyBytes;
    private const string Source = "Shopify";

    [Function("ShopifyWebhook")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "webhooks/shopify")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, problem) = await WebhookIntake.ReadJsonAsync(request, Source, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var receivedAt = clock.GetUtcNow();
        var shop = Header(request, "Shop-Domain");
        if (!ShopDomainPattern().IsMatch(shop))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers", "X-Shopify-Shop-Domain must be the shop's host name.");
        }

        if (shops.Find(ShopifyWebhook.Platform, shop) is not { WebhookSecret: not null } account)
        {
            return WebhookIntake.UnknownShop(logger, Source);
        }

        if (!account.IsSigned(body.Span, Header(request, "Hmac-Sha256")))
        {
            return WebhookIntake.BadSignature(logger, Source, "X-Shopify-Hmac-Sha256");
        }

        var topic = Header(request, "Topic");
        var deliveryId = Header(request, "Webhook-Id");
        if (topic.Length == 0 || !ShopifyWebhook.IsValidDeliveryId(deliveryId))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers",
                "X-Shopify-Topic and X-Shopify-Webhook-Id (letters, digits, '-', '_', '.', ':') are required.");
        }

        var shopifyEventId = Header(request, "Event-Id") is { Length: > 0 } sent ? sent : null;
        if (shopifyEventId is not null && !JsonFields.IsValidId(shopifyEventId))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers",
                "X-Shopify-Event-Id, when sent, must be letters, digits, '-', '_', '.' or ':'.");
        }

        var times = new DeliveryTimes(receivedAt, ShopifyWebhook.TriggeredAt(Header(request, "Triggered-At")));
        var parse = ShopifyWebhook.Parse(topic, shop, deliveryId, body.Span, shopifyEventId, times);
        return await WebhookIntake.CompleteAsync(request, parse, Source, topic, deliveryId, body, logger, cancellationToken);
    }

    /// <summary>A Shopify header by its name after the prefix: <c>X-Shopify-{name}</c>, else the newer <c>Shopify-{name}</c>.</summary>
    public static string Header(HttpRequest request, string name) =>
        request.Headers[$"X-Shopify-{name}"].ToString() is { Length: > 0 } prefixed ? prefixed : request.Headers[$"Shopify-{name}"].ToString();

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\\.)+[A-Za-z]{2,63}$")]
    public static partial Regex ShopDomainPattern();
}
