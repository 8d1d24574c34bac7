using System.Diagnostics;
using System.Text.Json.Serialization;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// What every ingest endpoint shares: the 415/413 checks before anything is read, the 404/401 answers, and turning
/// a parse result into durable work and its HTTP answer. Logs name the source, topic and delivery id, never a
/// secret or personal data.
/// </summary>
public static partial class WebhookIntake
{
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>The raw body, or the problem to answer: 415 if not JSON, 413 over 1 MiB.</summary>
    public static async Task<(ReadOnlyMemory<byte> Body, IResult? Problem)> ReadJsonAsync(HttpRequest request, string source, CancellationToken cancellationToken)
    {
        if (!Http.IsJson(request))
        {
            return (default, Http.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", $"{source} requests must be sent as application/json."));
        }

        var body = await Http.ReadBodyAsync(request, MaxBodyBytes, cancellationToken);
        return body is null
            ? (default, Http.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body exceeds {MaxBodyBytes} bytes."))
            : (body.Value, null);
    }

    public static IResult UnknownShop(ILogger logger, string source) =>
        Http.Problem(StatusCodes.Status404NotFound, "Unknown shop", $"No {source} shop with that identity is registered in this deployment.");

    public static IResult BadSignature(ILogger logger, string source, string header)
    {
        LogRejectedSignature(logger, source);
        return Http.Problem(StatusCodes.Status401Unauthorized, "Invalid signature", $"{header} is missing or does not match the body.");
    }

    /// <summary>Turns a parse result into durable work: 200 accepted/duplicate, 202 ignored, 400 invalid.</summary>
    public static async Task<IResult> CompleteAsync(
        HttpRequest request, IngestParse parse, string source, string topic, string deliveryId, ReadOnlyMemory<byte> body,
        ILogger logger, CancellationToken cancellationToken)
    {
        var services = request.HttpContext.RequestServices;
        switch (parse)
        {
            case IngestParse.Invalid invalid:
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid payload", invalid.Detail);

            case IngestParse.Ignored ignored:
                LogIgnored(logger, source, topic, deliveryId, ignored.Reason);
                return Results.Json(new { status = "ignored", reason = ignored.Reason }, statusCode: StatusCodes.Status202Accepted);

            case IngestParse.Mapped mapped:
                IngestOutcome outcome;
                try
                {
                    outcome = await services.GetRequiredService<GroupCommit>().AcceptAsync(mapped.Event, deliveryId, body, cancellationToken);
                }
                catch (IntakeUnavailableException e)
                {
                    LogIntakeUnavailable(logger, e, source, topic, deliveryId);
                    return IntakeUnavailable(request.HttpContext.Response);
                }

                LogAccepted(logger, source, topic, deliveryId, outcome);
                if (mapped.Event.Degraded is { Count: > 0 } degraded)
                {
                    LogDegraded(logger, source, topic, deliveryId, string.Join("; ", degraded));
                }

                // The event id the answer names finds the request's trace, which goes on to the event's deliveries.
                Activity.Current?.SetTag(PipelineTracing.EventIdTag, mapped.Event.EventId);
                return Results.Json(new IntakeAnswer(StatusOf(outcome), mapped.Event.EventId, mapped.Event.Degraded), IntakeAnswerJson.Default.IntakeAnswer);

            case IngestParse.OrderScoped scoped:
                var evt = scoped.Event;
                var owner = await services.GetRequiredService<IOrderIndex>().FindAsync(evt.Customer.Platform, evt.ShopDomain ?? "", scoped.OrderId, cancellationToken);
                return owner is { } customer
                    ? await CompleteAsync(request, new IngestParse.Mapped(evt with { Customer = customer }), source, topic, deliveryId, body, logger, cancellationToken)
                    : await CompleteAsync(request, new IngestParse.Ignored("an order this deployment has not seen (its customer is unknown)"), source, topic, deliveryId, body, logger, cancellationToken);

            case IngestParse.Privacy privacy:
                var privacyOutcome = await services.GetRequiredService<PrivacyHandler>().AcceptAsync(privacy.Request, cancellationToken);
                LogAccepted(logger, source, topic, deliveryId, privacyOutcome);
                return Results.Json(new { status = StatusOf(privacyOutcome), requestId = privacy.Request.RequestId });

            case IngestParse.Catalog catalog:
                var drops = await services.GetRequiredService<CatalogHandler>().AcceptAsync(catalog.Update, deliveryId, body, cancellationToken);
                LogCatalog(logger, source, topic, deliveryId, catalog.Update.Variants.Count, drops.Count);
                return Results.Json(new { status = "accepted", priceDrops = drops.Count });

            default:
                throw new InvalidOperationException("Unexpected parse result.");
        }
    }

    /// <summary>503 with Retry-After: the delivery was not made durable, which is this service's fault; the source retries.</summary>
    public static IResult IntakeUnavailable(HttpResponse response, string detail = "The delivery could not be stored and was not accepted; send it again.")
    {
        response.Headers.RetryAfter = "5";
        return Http.Problem(StatusCodes.Status503ServiceUnavailable, "Intake unavailable", detail);
    }

    public static string StatusOf(IngestOutcome outcome) => outcome == IngestOutcome.Accepted ? "accepted" : "duplicate";

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Source} request rejected: signature or key missing or wrong")]
    private static partial void LogRejectedSignature(ILogger logger, string source);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Source} {Topic} {DeliveryId} ignored: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string source, string topic, string deliveryId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Source} {Topic} {DeliveryId}: the intake write failed; answered 503")]
    internal static partial void LogIntakeUnavailable(ILogger logger, Exception error, string source, string topic, string deliveryId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Source} {Topic} {DeliveryId}: {Outcome}")]
    private static partial void LogAccepted(ILogger logger, string source, string topic, string deliveryId, IngestOutcome outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Source} {Topic} {DeliveryId} accepted, degraded: {Degraded}")]
    private static partial void LogDegraded(ILogger logger, string source, string topic, string deliveryId, string degraded);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Source} {Topic} {DeliveryId}: {Variants} variant prices, {Drops} price drops")]
    private static partial void LogCatalog(ILogger logger, string source, string topic, string deliveryId, int variants, int drops);
}

/// <summary>
/// The answer to an accepted (or duplicate) delivery: <c>{"status": "accepted", "eventId": "..."}</c>, with
/// <c>degraded</c> listing what the delivery lacked and how it was filled in, when anything was.
/// </summary>
public sealed record IntakeAnswer(string Status, string EventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<string>? Degraded = null);

/// <summary>The hottest response of the app, serialized by generated code rather than by reflection.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(IntakeAnswer))]
internal sealed partial class IntakeAnswerJson : JsonSerializerContext;
