using Microsoft.Azure.Functions.Worker;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/events</c> and <c>/api/events/batch</c>: the signed events API. The source names itself in
/// <c>X-Nudge-Source</c> and proves it with <c>X-Nudge-Signature</c> (base64 HMAC-SHA256 of the raw body with its
/// secret) or <c>x-api-key</c>. Each message is idempotent by its <c>messageId</c>.
/// </summary>
public sealed class EventsApiFunction(ShopRegistry shops, GroupCommit intake, ILogger<IngestHandler> logger)
{
    private const string Source = "Events API";

    [Function("Events")]
    public async Task<IResult> HandleSingleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "events")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, source, problem) = await AuthenticateAsync(request, shops, logger, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var (parse, messageId) = EventsApi.ParseSingle(source!.Domain, CustomerPlatformOf(source), body.Span, source.CustomerShop);
        return await WebhookIntake.CompleteAsync(request, parse, Source, "message", messageId ?? "-", body, logger, cancellationToken);
    }

    /// <summary>
    /// Every mapped message of the batch goes to the group commit at once, so they are written together (up to
    /// <see cref="GroupCommit.MaxEntriesPerWrite"/> a write), each with its own JSON as its raw body; the answer lists
    /// each message's result once all are durable. If a write fails the whole batch is answered 503 with Retry-After:
    /// some messages may be stored already, and sending the batch again is safe, because the messageIds make each
    /// message idempotent (one stored before is answered <c>duplicate</c> or dropped when its intake batch is processed).
    /// </summary>
    [Function("EventsBatch")]
    public async Task<IResult> HandleBatchAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "events/batch")] HttpRequest request, CancellationToken cancellationToken)
    {
        var (body, source, problem) = await AuthenticateAsync(request, shops, logger, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (EventsApi.ParseBatch(source!.Domain, CustomerPlatformOf(source), body.Span, out var messages, source.CustomerShop) is { } invalid)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid payload", invalid.Detail);
        }

        var deliveries = new List<IntakeDelivery>();
        foreach (var message in messages)
        {
            if (message.Result is IngestParse.Mapped mapped)
            {
                deliveries.Add(new IntakeDelivery(mapped.Event, mapped.Event.EventId, message.Raw));
            }
        }

        IngestOutcome[] outcomes;
        try
        {
            outcomes = await intake.AcceptAllAsync(deliveries, cancellationToken);
        }
        catch (IntakeUnavailableException e)
        {
            WebhookIntake.LogIntakeUnavailable(logger, e, Source, "batch", $"{messages.Count} messages");
            return WebhookIntake.IntakeUnavailable(request.HttpContext.Response,
                "The batch could not be stored and was not accepted; send the whole batch again. Messages stored before the failure are recognized by their messageId and taken once.");
        }

        var next = 0;
        var results = messages.Select(m => m.Result switch
        {
            IngestParse.Mapped => new { messageId = m.MessageId, status = WebhookIntake.StatusOf(outcomes[next++]), detail = (string?)null },
            IngestParse.Ignored ignored => new { messageId = m.MessageId, status = "ignored", detail = (string?)ignored.Reason },
            IngestParse.Invalid bad => new { messageId = m.MessageId, status = "invalid", detail = (string?)bad.Detail },
            _ => new { messageId = m.MessageId, status = "ignored", detail = (string?)"not a customer event" },
        }).ToList(); // in order: the outcomes of the mapped messages are taken one by one
        return Results.Json(new { status = "processed", results });
    }

    private static string CustomerPlatformOf(ShopAccount source) => source.CustomerPlatform ?? EventsApi.DefaultCustomerPlatform;

    private static async Task<(ReadOnlyMemory<byte> Body, ShopAccount? Source, IResult? Problem)> AuthenticateAsync(HttpRequest request, ShopRegistry shops, ILogger logger, CancellationToken cancellationToken)
    {
        var (body, problem) = await WebhookIntake.ReadJsonAsync(request, Source, cancellationToken);
        if (problem is not null)
        {
            return (body, null, problem);
        }

        var sourceId = request.Headers["X-Nudge-Source"].ToString();
        if (!JsonFields.IsValidId(sourceId))
        {
            return (body, null, Http.Problem(StatusCodes.Status400BadRequest, "Missing or malformed headers", "X-Nudge-Source must name the registered source."));
        }

        if (shops.Find(EventsApi.Platform, sourceId) is not { } source)
        {
            return (body, null, WebhookIntake.UnknownShop(logger, Source));
        }

        var signed = source.IsSigned(body.Span, request.Headers["X-Nudge-Signature"]);
        var keyed = Http.HasApiKey(request, source.ApiKey);
        return signed || keyed ? (body, source, null) : (body, null, WebhookIntake.BadSignature(logger, Source, "X-Nudge-Signature (or x-api-key)"));
    }
}
