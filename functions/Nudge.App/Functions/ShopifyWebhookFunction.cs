using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/webhooks/shopify</c>: verify the HMAC over the raw bytes first, then parse, then make the event
/// durable and acknowledge; journeys run asynchronously. A client mistake is a 4xx with a problem body.
/// </summary>
public static partial class ShopifyWebhookFunction
{
    public const int MaxBodyBytes = 1024 * 1024;

    public static async Task<IResult> HandleAsync(
        HttpRequest request,
        IOptions<ShopifyOptions> options,
        IngestHandler ingest,
        ILogger<IngestHandler> logger,
        CancellationToken cancellationToken)
    {
        if (!Http.IsJson(request))
        {
            return Http.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Shopify webhooks must be sent as application/json.");
        }

        var body = await Http.ReadBodyAsync(request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return Http.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body exceeds {MaxBodyBytes} bytes.");
        }

        var secret = Encoding.UTF8.GetBytes(options.Value.WebhookSecret);
        if (!WebhookSignature.IsValid(body.Value.Span, secret, request.Headers["X-Shopify-Hmac-Sha256"]))
        {
            LogRejectedSignature(logger);
            return Http.Problem(StatusCodes.Status401Unauthorized, "Invalid signature", "X-Shopify-Hmac-Sha256 is missing or does not match the body.");
        }

        var topic = request.Headers["X-Shopify-Topic"].ToString();
        var shop = request.Headers["X-Shopify-Shop-Domain"].ToString();
        var deliveryId = request.Headers["X-Shopify-Webhook-Id"].ToString();
        if (topic.Length == 0 || !ShopDomainPattern().IsMatch(shop) || !ShopifyWebhook.IsValidDeliveryId(deliveryId))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers",
                "X-Shopify-Topic, X-Shopify-Shop-Domain (a host name) and X-Shopify-Webhook-Id (letters, digits, '-', '_', '.', ':') are required.");
        }

        switch (ShopifyWebhook.Parse(topic, shop, deliveryId, body.Value.Span))
        {
            case IngestParse.Invalid invalid:
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid payload", invalid.Detail);

            case IngestParse.Ignored ignored:
                LogIgnored(logger, topic, deliveryId, ignored.Reason);
                return Results.Json(new { status = "ignored", reason = ignored.Reason }, statusCode: StatusCodes.Status202Accepted);

            case IngestParse.Mapped mapped:
                var outcome = await ingest.AcceptAsync(mapped.Event, deliveryId, body.Value, cancellationToken);
                LogAccepted(logger, topic, deliveryId, outcome);
                return Results.Json(new { status = outcome == IngestOutcome.Accepted ? "accepted" : "duplicate", eventId = mapped.Event.EventId });

            default:
                throw new InvalidOperationException("Unexpected parse result.");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\\.)+[A-Za-z]{2,63}$")]
    private static partial Regex ShopDomainPattern();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Shopify webhook rejected: signature missing or wrong")]
    private static partial void LogRejectedSignature(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shopify webhook {Topic} {DeliveryId} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string topic, string deliveryId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Shopify webhook {Topic} {DeliveryId}: {Outcome}")]
    private static partial void LogAccepted(ILogger logger, string topic, string deliveryId, IngestOutcome outcome);
}
