using Microsoft.Azure.Functions.Worker;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Nudge.Channels;
using Nudge.Core.Pipeline;

namespace Nudge.App.Functions;

/// <summary>
/// Provider reports. <c>POST /api/callbacks/acs?key=</c> takes Event Grid deliveries (the subscription validation
/// handshake, ACS email delivery and engagement reports, SMS delivery reports); <c>POST /api/callbacks/solapi?key=</c>
/// takes Solapi's message reports. Our delivery id is found in what we sent: the email Operation-Id, the SMS tag,
/// Solapi's customFields.
/// </summary>
public sealed partial class ProviderCallbacksFunction(IOptions<ChannelOptions> options, IOptions<SolapiOptions> solapi, DeliveryReportHandler reports, ILogger<DeliveryReportHandler> logger)
{
    public const int MaxBodyBytes = 1024 * 1024;

    [Function("AcsCallbacks")]
    public async Task<IResult> AcsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "callbacks/acs")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (await ReadAsync(request, options.Value) is not { } body)
        {
            return Unauthorized();
        }

        if (body.ValueKind != JsonValueKind.Array)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid events", "Event Grid posts an array of events.");
        }

        foreach (var evt in body.EnumerateArray())
        {
            var type = Str(evt, "eventType");
            var data = evt.TryGetProperty("data", out var d) ? d : default;
            if (type == "Microsoft.EventGrid.SubscriptionValidationEvent")
            {
                return Results.Json(new { validationResponse = Str(data, "validationCode") });
            }

            var (deliveryId, report, detail) = type switch
            {
                "Microsoft.Communication.EmailDeliveryReportReceived" => (FromGuid(Str(data, "messageId")), EmailReport(Str(data, "status")), Str(data, "status")),
                "Microsoft.Communication.EmailEngagementTrackingReportReceived" => (FromGuid(Str(data, "messageId")),
                    Str(data, "engagementType") == "click" ? DeliveryReport.Clicked : DeliveryReport.Opened, Str(data, "engagementContext")),
                "Microsoft.Communication.SMSDeliveryReportReceived" => (Str(data, "tag"),
                    Str(data, "deliveryStatus") == "Delivered" ? DeliveryReport.Delivered : DeliveryReport.NotDelivered, Str(data, "deliveryStatusDetails")),
                _ => (null, DeliveryReport.NotDelivered, null),
            };
            if (deliveryId is not null && report is { } r)
            {
                var outcome = await reports.ApplyAsync(deliveryId, r, detail, cancellationToken);
                LogReport(logger, deliveryId, r, outcome);
            }
        }

        return Results.Ok();
    }

    [Function("SolapiCallbacks")]
    public async Task<IResult> SolapiAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "callbacks/solapi")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (await ReadAsync(request, options.Value) is not { } body)
        {
            return Unauthorized();
        }

        var items = body.ValueKind == JsonValueKind.Array ? body.EnumerateArray().ToList() : [body];
        foreach (var item in items)
        {
            var deliveryId = item.TryGetProperty("customFields", out var fields) ? Str(fields, "deliveryId") : null;
            var code = Str(item, "statusCode");
            if (deliveryId is null || code is null)
            {
                continue;
            }

            var report = solapi.Value.ReportFor(code);
            var outcome = await reports.ApplyAsync(deliveryId, report, $"solapi {code}", cancellationToken);
            LogReport(logger, deliveryId, report, outcome);
        }

        return Results.Ok();
    }

    /// <summary>ACS email statuses: Bounced means the mailbox does not exist; Suppressed means ACS itself holds the address back.</summary>
    private static DeliveryReport? EmailReport(string? status) => status switch
    {
        "Delivered" => DeliveryReport.Delivered,
        "Bounced" or "Suppressed" => DeliveryReport.Bounced,
        "Failed" or "Quarantined" or "FilteredSpam" => DeliveryReport.NotDelivered,
        _ => null,
    };

    private static async Task<JsonElement?> ReadAsync(HttpRequest request, ChannelOptions options)
    {
        if (!Core.SecretComparison.Matches(request.Query["key"].ToString(), options.CallbackKey))
        {
            return null;
        }

        var body = await Http.ReadBodyAsync(request, MaxBodyBytes, request.HttpContext.RequestAborted);
        try
        {
            return body is null ? JsonDocument.Parse("[]").RootElement : JsonDocument.Parse(body.Value).RootElement;
        }
        catch (JsonException)
        {
            return JsonDocument.Parse("{}").RootElement;
        }
    }

    private static IResult Unauthorized() => Http.Problem(StatusCodes.Status401Unauthorized, "Unauthorized", "The callback URL's key is missing or wrong.");

    private static string? Str(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Core.Ingest.JsonFields.TextOf(value) : null;

    /// <summary>The email Operation-Id we sent is the delivery id as a GUID.</summary>
    private static string? FromGuid(string? messageId) => Guid.TryParse(messageId, out var guid) ? guid.ToString("N") : null;

    [LoggerMessage(Level = LogLevel.Information, Message = "Provider report for delivery {DeliveryId}: {Report} ({Outcome})")]
    private static partial void LogReport(ILogger logger, string deliveryId, DeliveryReport report, ReportHandling outcome);
}
