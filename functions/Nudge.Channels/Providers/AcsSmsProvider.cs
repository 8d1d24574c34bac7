using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Nudge.Channels.Providers;

/// <summary>
/// ACS SMS over its REST API (<c>POST {endpoint}/sms</c>). The delivery id, as a GUID, is the
/// <c>repeatabilityRequestId</c> and the first due time the <c>repeatabilityFirstSent</c>, so ACS answers a repeat
/// with the first result instead of sending again. ACS SMS has no LMS: a long text goes out as a segmented SMS.
/// </summary>
public sealed class AcsSmsProvider(HttpPipeline pipeline, Uri endpoint, string senderNumber, string apiVersion, TimeProvider clock) : ISmsProvider
{
    public string Name => "acs-sms";

    public bool DedupesByKey => true;

    public async Task<ProviderResult> SendAsync(SmsRequest request, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["from"] = senderNumber,
            ["smsRecipients"] = new JsonArray(new JsonObject
            {
                ["to"] = request.To,
                ["repeatabilityRequestId"] = ProviderKeys.AsGuid(request.IdempotencyKey),
                ["repeatabilityFirstSent"] = request.FirstAttemptAt.ToString("r", System.Globalization.CultureInfo.InvariantCulture),
            }),
            ["message"] = request.Subject is null ? request.Text : $"[{request.Subject}]\n{request.Text}",
            ["smsSendOptions"] = new JsonObject { ["enableDeliveryReport"] = true, ["tag"] = request.IdempotencyKey },
        };

        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri(endpoint, $"sms?api-version={apiVersion}"));
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        try
        {
            await pipeline.SendAsync(message, cancellationToken);
        }
        catch (Exception e) when (ProviderKeys.IsNetworkFailure(e, cancellationToken))
        {
            return new ProviderResult(ProviderStatus.Transient, null, $"ACS SMS unreachable: {e.GetType().Name}") { MayHaveSent = ProviderKeys.MayHaveArrived(e) };
        }

        var response = message.Response;
        var json = ProviderResponses.Json(response);

        if (response.Status == 202 && json?["value"]?[0] is { } result)
        {
            var id = result["messageId"]?.GetValue<string>();
            var status = result["httpStatusCode"]?.GetValue<int>() ?? 0;
            var reason = $"ACS SMS recipient status {status}: {result["errorMessage"]?.GetValue<string>()}";
            return result["successful"]?.GetValue<bool>() == true && id is not null ? ProviderResult.Accepted(id)
                : status == 400 ? new ProviderResult(ProviderStatus.InvalidRecipient, id, reason)
                : status is 429 or >= 500 ? new ProviderResult(ProviderStatus.Transient, id, reason) { MayHaveSent = ProviderResult.StatusMayHideASend(status) }
                : new ProviderResult(ProviderStatus.Permanent, id, reason);
        }

        var error = $"ACS SMS answered {response.Status}: {json?["error"]?["code"]?.GetValue<string>()} {json?["error"]?["message"]?.GetValue<string>()}".Trim();
        return response.Status is 429 or 408 or >= 500 or 401 or 403
            ? new ProviderResult(ProviderStatus.Transient, null, error, ProviderResponses.RetryAfterOf(response, clock)) { MayHaveSent = ProviderResult.StatusMayHideASend(response.Status) }
            : new ProviderResult(ProviderStatus.Permanent, null, error);
    }
}
