using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Channels;
using Nudge.Channels.Templates;
using Nudge.Core;
using Nudge.Core.Delivery;

namespace Nudge.App.Functions;

/// <summary>
/// <c>POST /api/templates/preview</c>: what a text would go out as (kind, final text with labels, EUC-KR bytes,
/// warnings), or a 400 with the reason it cannot be sent at all. Marketers call it before they publish.
/// </summary>
public sealed class TemplatePreviewFunction(IOptions<NudgeOptions> nudge, IOptions<ChannelOptions> channels, MessageBuilder builder)
{
    public const int MaxBodyBytes = 64 * 1024;

    public sealed record PreviewRequest(string? Channel, [property: JsonPropertyName("class")] string? Class, string? Text, string? Subject, string? Html);

    public sealed record PreviewResponse(string Kind, int Bytes, string Text, string? Subject, IReadOnlyList<string> Warnings);

    [Function("TemplatePreview")]
    [System.ComponentModel.Description("Render a template as a channel would send it: kind (SMS/LMS/…), bytes, text and warnings; 400 if it could not be sent.")]
    public async Task<Results<JsonHttpResult<PreviewResponse>, ProblemHttpResult>> HandleAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "templates/preview")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Http.RequireMarketerKey(request, nudge.Value) is { } denied)
        {
            return denied;
        }

        if (!Http.IsJson(request))
        {
            return Http.Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", "Send the preview request as application/json.");
        }

        var body = await Http.ReadBodyAsync(request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return Http.Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large", $"The body exceeds {MaxBodyBytes} bytes.");
        }

        PreviewRequest? preview;
        try
        {
            preview = JsonSerializer.Deserialize<PreviewRequest>(body.Value.Span, NudgeJson.Options);
        }
        catch (JsonException)
        {
            preview = null;
        }

        if (preview is null || preview.Channel is null || !ChannelNames.IsKnown(preview.Channel))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid preview request", "'channel' must be one of email, sms, kakao.");
        }

        if (!TryParseClass(preview.Class, out var messageClass))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid preview request", "'class' must be one of ad, informational, transactional.");
        }

        if (string.IsNullOrWhiteSpace(preview.Text))
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid preview request", "'text' is required.");
        }

        var (text, textError) = builder.RenderSample(preview.Text);
        var (subject, subjectError) = preview.Subject is null ? (null, null) : builder.RenderSample(preview.Subject);
        var (html, htmlError) = preview.Html is null ? (null, null) : builder.RenderSample(preview.Html);
        if ((textError ?? subjectError ?? htmlError) is { } liquidError)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid template", liquidError);
        }

        var composition = MessageComposer.Compose(new MessageDraft(preview.Channel, messageClass, text!, subject, html), channels.Value.Identity,
            $"{channels.Value.PublicBaseUrl.TrimEnd('/')}/api/unsubscribe?t=preview");
        if (composition.Message is not { } message)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Cannot be sent", composition.Rejection!);
        }

        return TypedResults.Json(new PreviewResponse(message.Kind, message.Bytes, message.Text, message.Subject, message.Warnings), NudgeJson.Options);
    }

    private static bool TryParseClass(string? text, out MessageClass messageClass)
    {
        (var ok, messageClass) = text switch
        {
            "ad" => (true, MessageClass.Ad),
            "informational" => (true, MessageClass.Informational),
            "transactional" => (true, MessageClass.Transactional),
            _ => (false, MessageClass.Ad),
        };
        return ok;
    }
}
