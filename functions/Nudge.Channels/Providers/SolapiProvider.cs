using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Nudge.Core.Delivery;

namespace Nudge.Channels.Providers;

/// <summary>
/// Solapi's REST API (<c>POST /messages/v4/send</c>) for SMS/LMS, AlimTalk and Brand Message, signed with its
/// HMAC-SHA256 header (<c>apiKey, date, salt, signature</c> = hex HMAC of date+salt under the API secret).
/// Solapi takes no idempotency key, so an interrupted attempt is never resent (<see cref="DedupesByKey"/> false);
/// our delivery id travels in <c>customFields</c> so its status report can settle the delivery.
/// Kakao is sent with the provider's own SMS substitution off: the router falls back itself, with our labels.
/// </summary>
public sealed class SolapiProvider(HttpPipeline pipeline, SolapiSettings settings, TimeProvider clock) : ISmsProvider, IKakaoProvider
{
    /// <summary>Solapi's "accepted" status code.</summary>
    public const string AcceptedCode = "2000";

    public string Name => "solapi";

    public bool DedupesByKey => false;

    public Task<ProviderResult> SendAsync(SmsRequest request, CancellationToken cancellationToken)
    {
        var message = new JsonObject
        {
            ["to"] = Digits(request.To),
            ["from"] = Digits(settings.SenderNumber),
            ["text"] = request.Text,
            ["type"] = request.Kind == MessageKinds.Lms ? "LMS" : "SMS",
            ["customFields"] = new JsonObject { ["deliveryId"] = request.IdempotencyKey },
        };
        if (request.Kind == MessageKinds.Lms && request.Subject is not null)
        {
            message["subject"] = request.Subject;
        }

        return SendAsync(message, kakao: false, cancellationToken);
    }

    public Task<ProviderResult> SendAsync(KakaoRequest request, CancellationToken cancellationToken)
    {
        var options = new JsonObject { ["pfId"] = settings.KakaoChannelId, ["disableSms"] = true };
        if (request.Kind == MessageKinds.AlimTalk)
        {
            options["templateId"] = request.TemplateCode;
            options["variables"] = new JsonObject(request.Variables.Select(v => KeyValuePair.Create($"#{{{v.Key}}}", (JsonNode?)v.Value)));
        }
        else
        {
            options["adFlag"] = true;
        }

        var message = new JsonObject
        {
            ["to"] = Digits(request.To),
            ["from"] = Digits(settings.SenderNumber),
            ["text"] = request.Text,
            ["type"] = request.Kind == MessageKinds.AlimTalk ? "ATA" : "BMS_TEXT",
            ["kakaoOptions"] = options,
            ["customFields"] = new JsonObject { ["deliveryId"] = request.IdempotencyKey },
        };
        return SendAsync(message, kakao: true, cancellationToken);
    }

    private async Task<ProviderResult> SendAsync(JsonObject message, bool kakao, CancellationToken cancellationToken)
    {
        using var http = pipeline.CreateMessage();
        http.Request.Method = RequestMethod.Post;
        http.Request.Uri.Reset(new Uri(settings.BaseUrl, "messages/v4/send"));
        http.Request.Headers.SetValue("Content-Type", "application/json");
        http.Request.Headers.SetValue("Authorization", AuthorizationHeader(settings.ApiKey, settings.ApiSecret, clock.GetUtcNow(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16))));
        http.Request.Content = RequestContent.Create(BinaryData.FromString(new JsonObject { ["message"] = message }.ToJsonString()));
        try
        {
            await pipeline.SendAsync(http, cancellationToken);
        }
        catch (Exception e) when (ProviderKeys.IsNetworkFailure(e, cancellationToken))
        {
            return new ProviderResult(ProviderStatus.Transient, null, $"Solapi unreachable: {e.GetType().Name}") { MayHaveSent = ProviderKeys.MayHaveArrived(e) };
        }

        var response = http.Response;
        var json = ProviderResponses.Json(response);
        if (response.Status is >= 200 and < 300)
        {
            var code = json?["statusCode"]?.GetValue<string>();
            var id = json?["messageId"]?.GetValue<string>();
            if (code == AcceptedCode && id is not null)
            {
                return ProviderResult.Accepted(id);
            }

            var reason = $"Solapi status {code}: {json?["statusMessage"]?.GetValue<string>()}";
            return kakao && settings.NotOnKakaoCodes.Contains(code ?? "")
                ? new ProviderResult(ProviderStatus.NotOnKakao, id, reason)
                : settings.InvalidNumberCodes.Contains(code ?? "")
                    ? new ProviderResult(ProviderStatus.InvalidRecipient, id, reason)
                    : new ProviderResult(ProviderStatus.Permanent, id, reason);
        }

        var error = $"Solapi answered {response.Status}: {json?["errorCode"]?.GetValue<string>()} {json?["errorMessage"]?.GetValue<string>()}".Trim();
        return response.Status switch
        {
            429 or 408 or >= 500 or 401 or 403 => new ProviderResult(ProviderStatus.Transient, null, error,
                ProviderResponses.RetryAfterOf(response, clock)) { MayHaveSent = ProviderResult.StatusMayHideASend(response.Status) },
            _ => new ProviderResult(ProviderStatus.Permanent, null, error),
        };
    }

    /// <summary><c>HMAC-SHA256 apiKey=…, date=…, salt=…, signature=…</c>: the signature is hex HMAC-SHA256 of date + salt.</summary>
    public static string AuthorizationHeader(string apiKey, string apiSecret, DateTimeOffset now, string salt)
    {
        var date = now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);
        return $"HMAC-SHA256 apiKey={apiKey}, date={date}, salt={salt}, signature={Signature(apiSecret, date, salt)}";
    }

    public static string Signature(string apiSecret, string date, string salt) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(apiSecret), Encoding.UTF8.GetBytes(date + salt)));

    private static string Digits(string phone)
    {
        var digits = new string(phone.Where(char.IsAsciiDigit).ToArray());
        // Korean numbers arrive as +82 10…; Solapi takes the domestic form 010…
        return digits.StartsWith("82", StringComparison.Ordinal) && phone.TrimStart().StartsWith('+') ? "0" + digits[2..] : digits;
    }

}

/// <summary>Solapi account settings (section <c>Nudge:Sms</c> / <c>Nudge:Kakao</c> with <c>Provider=solapi</c>).</summary>
public sealed record SolapiSettings(Uri BaseUrl, string ApiKey, string ApiSecret, string SenderNumber, string? KakaoChannelId)
{
    /// <summary>Status codes meaning "not reachable on Kakao" (not a channel friend, no KakaoTalk user): fall back to SMS.</summary>
    public IReadOnlySet<string> NotOnKakaoCodes { get; init; } = new SolapiOptions().NotOnKakao;

    /// <summary>Status codes meaning the number does not exist or is not in service: suppress it.</summary>
    public IReadOnlySet<string> InvalidNumberCodes { get; init; } = new SolapiOptions().InvalidNumbers;
}
