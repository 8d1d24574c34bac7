using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Nudge.Testing;

/// <summary>
/// Local stand-ins for the providers on 127.0.0.1, implementing the documented request and response shapes:
/// ACS Email (<c>POST /emails:send</c> + Operation-Location polling, HMAC auth, Operation-Id idempotency), ACS SMS
/// (<c>POST /sms</c>, repeatability ids) and Solapi (<c>POST /messages/v4/send</c>, its HMAC header). Failures are
/// scripted per route (429 with Retry-After, 5xx); every accepted message is kept for assertions, with its
/// arrival time for rate checks.
/// </summary>
public sealed class ProviderStubs : IAsyncDisposable
{
    public const string AcsAccessKey = "c3R1Yi1hY3MtYWNjZXNzLWtleS0wMDAxLWZvci10ZXN0cw==";
    public const string SolapiKey = "NCSTUBKEY0000001";
    public const string SolapiSecret = "stub-solapi-secret-0000000000001";

    private readonly WebApplication _app;

    private ProviderStubs(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>Delay before each answer, like a real provider's latency.</summary>
    public TimeSpan Latency { get; set; }

    /// <summary>Scripted answers per route key ("email", "sms", "solapi"): a status code to return instead of accepting.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<int>> Failures { get; } = new();

    /// <summary>Phones the Solapi stub treats as not reachable on Kakao, and as not existing.</summary>
    public ConcurrentDictionary<string, bool> NotOnKakao { get; } = new();
    public ConcurrentDictionary<string, bool> InvalidNumbers { get; } = new();

    public ConcurrentQueue<(string Route, JsonObject Body, IDictionary<string, string> Headers, DateTimeOffset At)> Accepted { get; } = new();

    /// <summary>Arrival times of every request (accepted or not), for rate checks.</summary>
    public ConcurrentQueue<DateTimeOffset> Arrivals { get; } = new();

    public int Requests => Arrivals.Count;
    public int AuthFailures;

    private readonly ConcurrentDictionary<string, string> _emailOperations = new();
    private readonly ConcurrentDictionary<string, int> _operationPolls = new();
    private readonly ConcurrentDictionary<string, string> _smsRepeats = new();

    public IEnumerable<JsonObject> AcceptedOn(string route) => Accepted.Where(a => a.Route == route).Select(a => a.Body);

    public void Fail(string route, params int[] statuses)
    {
        var queue = Failures.GetOrAdd(route, _ => new ConcurrentQueue<int>());
        foreach (var status in statuses)
        {
            queue.Enqueue(status);
        }
    }

    public string AcsConnectionString => $"endpoint={BaseAddress};accesskey={AcsAccessKey}";

    public static async Task<ProviderStubs> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ProviderStubs? stubs = null;
        app.MapPost("/emails:send", async (HttpRequest r) => await stubs!.EmailAsync(r));
        app.MapGet("/emails/operations/{id}", async (string id, HttpRequest r) => await stubs!.EmailOperationAsync(id, r));
        app.MapPost("/sms", async (HttpRequest r) => await stubs!.AcsSmsAsync(r));
        app.MapPost("/messages/v4/send", async (HttpRequest r) => await stubs!.SolapiAsync(r));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        stubs = new ProviderStubs(app, new Uri(address.TrimEnd('/') + "/"));
        return stubs;
    }

    private async Task<(byte[] Body, IResult? Early)> BeginAsync(HttpRequest request, string route, bool acsAuth)
    {
        Arrivals.Enqueue(DateTimeOffset.UtcNow);
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        if (Latency > TimeSpan.Zero)
        {
            await Task.Delay(Latency);
        }

        if (acsAuth ? !AcsSignatureValid(request, body) : !SolapiSignatureValid(request))
        {
            Interlocked.Increment(ref AuthFailures);
            return (body, Results.Json(new { error = new { code = "Denied", message = "Denied by the stub: bad signature." } }, statusCode: 401));
        }

        if (Failures.TryGetValue(route, out var script) && script.TryDequeue(out var status))
        {
            var headers = request.HttpContext.Response.Headers;
            if (status == 429)
            {
                headers.RetryAfter = "1";
            }

            return (body, route == "solapi"
                ? Results.Json(new { errorCode = status == 429 ? "TooManyRequests" : "InternalError", errorMessage = $"scripted {status}" }, statusCode: status)
                : Results.Json(new { error = new { code = status == 429 ? "TooManyRequests" : "ServiceUnavailable", message = $"scripted {status}" } }, statusCode: status));
        }

        return (body, null);
    }

    private async Task<IResult> EmailAsync(HttpRequest request)
    {
        var (raw, early) = await BeginAsync(request, "email", acsAuth: true);
        if (early is not null)
        {
            return early;
        }

        var body = JsonNode.Parse(raw)!.AsObject();
        var to = body["recipients"]?["to"]?[0]?["address"]?.GetValue<string>();
        if (body["senderAddress"] is null || body["content"]?["subject"] is null || to is null)
        {
            return Results.Json(new { error = new { code = "BadRequest", message = "senderAddress, content.subject and recipients.to are required." } }, statusCode: 400);
        }

        var operationId = request.Headers["Operation-Id"].ToString() is { Length: > 0 } given ? given : Guid.NewGuid().ToString();
        if (_emailOperations.TryAdd(operationId, to))
        {
            Accepted.Enqueue(("email", body, request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()), DateTimeOffset.UtcNow));
        }

        request.HttpContext.Response.Headers["Operation-Location"] = $"{BaseAddress}emails/operations/{operationId}?api-version=2023-03-31";
        request.HttpContext.Response.Headers.RetryAfter = "0";
        return Results.Json(new { id = operationId, status = "Running" }, statusCode: 202);
    }

    private async Task<IResult> EmailOperationAsync(string id, HttpRequest request)
    {
        if (!AcsSignatureValid(request, []))
        {
            return Results.StatusCode(401);
        }

        if (!_emailOperations.TryGetValue(id, out var to))
        {
            return Results.Json(new { error = new { code = "NotFound", message = "No such operation." } }, statusCode: 404);
        }

        await Task.Yield();
        var polls = _operationPolls.AddOrUpdate(id, 1, (_, n) => n + 1);
        request.HttpContext.Response.Headers.RetryAfter = "0";
        return polls < 2 ? Results.Json(new { id, status = "Running" })
            : to.EndsWith("@fail.example", StringComparison.Ordinal) ? Results.Json(new { id, status = "Failed", error = new { code = "InvalidRecipient", message = "The domain does not accept mail." } })
            : Results.Json(new { id, status = "Succeeded" });
    }

    private async Task<IResult> AcsSmsAsync(HttpRequest request)
    {
        var (raw, early) = await BeginAsync(request, "sms", acsAuth: true);
        if (early is not null)
        {
            return early;
        }

        var body = JsonNode.Parse(raw)!.AsObject();
        var recipient = body["smsRecipients"]![0]!;
        var to = recipient["to"]!.GetValue<string>();
        var repeat = recipient["repeatabilityRequestId"]?.GetValue<string>() ?? Guid.NewGuid().ToString();
        if (InvalidNumbers.ContainsKey(Digits(to)))
        {
            return Results.Json(new { value = new[] { new { to, messageId = (string?)null, httpStatusCode = 400, repeatabilityResult = "accepted", successful = false, errorMessage = "Invalid To phone number format." } } }, statusCode: 202);
        }

        var messageId = _smsRepeats.GetOrAdd(repeat, _ =>
        {
            Accepted.Enqueue(("sms", body, request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()), DateTimeOffset.UtcNow));
            return "acs-sms-" + Guid.NewGuid().ToString("N");
        });
        return Results.Json(new { value = new[] { new { to, messageId, httpStatusCode = 202, repeatabilityResult = "accepted", successful = true, errorMessage = (string?)null } } }, statusCode: 202);
    }

    private async Task<IResult> SolapiAsync(HttpRequest request)
    {
        var (raw, early) = await BeginAsync(request, "solapi", acsAuth: false);
        if (early is not null)
        {
            return early;
        }

        var message = JsonNode.Parse(raw)!["message"]!.AsObject();
        var to = message["to"]!.GetValue<string>();
        var type = message["type"]?.GetValue<string>() ?? "SMS";
        var (code, text) = InvalidNumbers.ContainsKey(Digits(to)) ? ("3059", "변작된 발신번호 또는 없는 수신번호")
            : type is "ATA" or "BMS_TEXT" && NotOnKakao.ContainsKey(Digits(to)) ? ("3104", "카카오톡 미사용자 또는 채널 친구 아님")
            : ("2000", "정상 접수(이통사로 접수 예정) ");
        if (code == "2000")
        {
            Accepted.Enqueue(("solapi", message, request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString()), DateTimeOffset.UtcNow));
        }

        return Results.Json(new
        {
            groupId = "G4V" + Guid.NewGuid().ToString("N")[..20].ToUpperInvariant(),
            messageId = "M4V" + Guid.NewGuid().ToString("N")[..20].ToUpperInvariant(),
            accountId = "12925149",
            statusCode = code,
            statusMessage = text,
            to,
            from = message["from"]?.GetValue<string>(),
            type,
            country = "82",
        });
    }

    private static bool AcsSignatureValid(HttpRequest request, byte[] body)
    {
        var date = request.Headers["x-ms-date"].ToString();
        var hash = request.Headers["x-ms-content-sha256"].ToString();
        var authorization = request.Headers.Authorization.ToString();
        if (hash != Convert.ToBase64String(SHA256.HashData(body)) || !authorization.StartsWith("HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature=", StringComparison.Ordinal))
        {
            return false;
        }

        var expected = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(AcsAccessKey),
            Encoding.UTF8.GetBytes($"{request.Method}\n{request.Path}{request.QueryString}\n{date};{request.Host};{hash}")));
        return authorization.EndsWith("&Signature=" + expected, StringComparison.Ordinal);
    }

    private static bool SolapiSignatureValid(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("HMAC-SHA256 ", StringComparison.Ordinal))
        {
            return false;
        }

        var parts = header["HMAC-SHA256 ".Length..].Split(',', StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return parts.GetValueOrDefault("apiKey") == SolapiKey
            && parts.TryGetValue("date", out var date) && parts.TryGetValue("salt", out var salt) && parts.TryGetValue("signature", out var signature)
            && signature == Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(SolapiSecret), Encoding.UTF8.GetBytes(date + salt)));
    }

    private static string Digits(string phone) => new(phone.Where(char.IsAsciiDigit).ToArray());

    /// <summary>The most requests seen in any window of <paramref name="window"/> (sliding, by arrival).</summary>
    public int MaxInWindow(TimeSpan window) => MaxInWindow(Arrivals, window);

    /// <summary>The most timestamps in any window of the given length.</summary>
    public static int MaxInWindow(IEnumerable<DateTimeOffset> timestamps, TimeSpan window)
    {
        var times = timestamps.OrderBy(t => t).ToArray();
        var max = 0;
        var start = 0;
        for (var end = 0; end < times.Length; end++)
        {
            while (times[end] - times[start] >= window)
            {
                start++;
            }

            max = Math.Max(max, end - start + 1);
        }

        return max;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
