using System.Text.Json;
using Azure;
using System.Text.Json.Nodes;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Nudge.Channels.Providers;

/// <summary>
/// ACS Email over its REST API: <c>POST {endpoint}/emails:send</c>, then poll the Operation-Location until the
/// operation succeeds or fails. The delivery id, as a GUID, is the <c>Operation-Id</c> (ACS's idempotency key), so a
/// retried request after a crash reports the first operation instead of sending again.
/// </summary>
public sealed class AcsEmailProvider(HttpPipeline pipeline, Uri endpoint, string senderAddress, string apiVersion, TimeSpan maxPoll, TimeProvider clock) : IEmailProvider
{
    public string Name => "acs-email";

    public bool DedupesByKey => true;

    public async Task<ProviderResult> SendAsync(EmailRequest request, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["senderAddress"] = senderAddress,
            ["content"] = new JsonObject { ["subject"] = request.Subject, ["plainText"] = request.PlainText, ["html"] = request.Html },
            ["recipients"] = new JsonObject { ["to"] = new JsonArray(new JsonObject { ["address"] = request.To }) },
            ["headers"] = new JsonObject(request.Headers.Select(h => KeyValuePair.Create(h.Key, (JsonNode?)h.Value))),
            ["userEngagementTrackingDisabled"] = false,
        };

        using var message = pipeline.CreateMessage();
        message.Request.Method = RequestMethod.Post;
        message.Request.Uri.Reset(new Uri(endpoint, $"./emails:send?api-version={apiVersion}"));
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("Operation-Id", ProviderKeys.AsGuid(request.IdempotencyKey));
        message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));

        try
        {
            await pipeline.SendAsync(message, cancellationToken);
        }
        catch (Exception e) when (ProviderKeys.IsNetworkFailure(e, cancellationToken))
        {
            return new ProviderResult(ProviderStatus.Transient, null, $"ACS Email unreachable: {e.GetType().Name}") { MayHaveSent = ProviderKeys.MayHaveArrived(e) };
        }

        var response = message.Response;
        if (response.Status != 202)
        {
            return Classify(response);
        }

        var operationId = ProviderResponses.Json(response)?["id"]?.GetValue<string>() ?? ProviderKeys.AsGuid(request.IdempotencyKey);
        if (!response.Headers.TryGetValue("Operation-Location", out var location) || !Uri.TryCreate(location, UriKind.Absolute, out var operationUri))
        {
            return new ProviderResult(ProviderStatus.Transient, operationId, "ACS Email accepted the request without an Operation-Location to poll") { MayHaveSent = true };
        }

        return await PollAsync(operationUri, operationId, ProviderResponses.RetryAfterOf(response, clock), cancellationToken);
    }

    private async Task<ProviderResult> PollAsync(Uri operation, string operationId, TimeSpan? firstWait, CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + maxPoll;
        var wait = firstWait ?? TimeSpan.FromSeconds(1);
        while (true)
        {
            await Task.Delay(Min(wait, TimeSpan.FromSeconds(5)), cancellationToken);
            using var message = pipeline.CreateMessage();
            message.Request.Method = RequestMethod.Get;
            message.Request.Uri.Reset(operation);
            try
            {
                await pipeline.SendAsync(message, cancellationToken);
            }
            catch (Exception e) when (ProviderKeys.IsNetworkFailure(e, cancellationToken))
            {
                return new ProviderResult(ProviderStatus.Transient, operationId, $"ACS Email operation poll failed: {e.GetType().Name}") { MayHaveSent = true };
            }

            var response = message.Response;
            if (response.Status != 200)
            {
                return Classify(response) with { MessageId = operationId };
            }

            var json = ProviderResponses.Json(response);
            var status = json?["status"]?.GetValue<string>();
            switch (status)
            {
                case "Succeeded":
                    return ProviderResult.Accepted(operationId);
                case "Failed" or "Canceled":
                    return new ProviderResult(ProviderStatus.Permanent, operationId, $"ACS Email operation {status}: {ErrorOf(json)}");
            }

            if (DateTimeOffset.UtcNow > deadline)
            {
                // Still running: the operation id is the idempotency key, so the retry picks up this same operation.
                return new ProviderResult(ProviderStatus.Transient, operationId, $"ACS Email operation still {status} after {maxPoll.TotalSeconds:0} s") { MayHaveSent = true };
            }

            wait = ProviderResponses.RetryAfterOf(response, clock) ?? TimeSpan.FromSeconds(1);
        }
    }

    private ProviderResult Classify(Response response)
    {
        var reason = $"ACS Email answered {response.Status}: {ErrorOf(ProviderResponses.Json(response))}";
        return response.Status switch
        {
            429 or 408 or >= 500 or 401 or 403 => new ProviderResult(ProviderStatus.Transient, null, reason, ProviderResponses.RetryAfterOf(response, clock))
            {
                MayHaveSent = ProviderResult.StatusMayHideASend(response.Status),
            },
            _ => new ProviderResult(ProviderStatus.Permanent, null, reason),
        };
    }

    private static string ErrorOf(JsonNode? json) =>
        json?["error"] is { } error ? $"{error["code"]?.GetValue<string>()} {error["message"]?.GetValue<string>()}".Trim() : "no error detail";

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

/// <summary>Provider-facing forms of the delivery id.</summary>
public static class ProviderKeys
{
    /// <summary>The 32-hex-digit delivery id as a GUID (ACS wants GUIDs for Operation-Id and repeatability ids).</summary>
    public static string AsGuid(string deliveryId) =>
        Guid.TryParseExact(deliveryId, "N", out var guid) ? guid.ToString("D")
        : new Guid(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(deliveryId))[..16]).ToString("D");

    /// <summary>A failure of the connection or a timeout, not our own cancellation: the provider may be down.</summary>
    public static bool IsNetworkFailure(Exception e, CancellationToken cancellationToken) =>
        e is RequestFailedException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    /// <summary>
    /// Whether the request may have reached the provider before the failure: only a connection that was never made
    /// (refused, no route, no such host) proves it did not.
    /// </summary>
    public static bool MayHaveArrived(Exception e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is System.Net.Sockets.SocketException socket)
            {
                return socket.SocketErrorCode is not (System.Net.Sockets.SocketError.ConnectionRefused or System.Net.Sockets.SocketError.HostNotFound
                    or System.Net.Sockets.SocketError.HostUnreachable or System.Net.Sockets.SocketError.NetworkUnreachable or System.Net.Sockets.SocketError.TryAgain);
            }
        }

        return true;
    }
}
