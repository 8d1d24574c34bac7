namespace Nudge.Channels.Providers;

public enum ProviderStatus
{
    /// <summary>The provider took the message (for email: the send operation succeeded).</summary>
    Accepted,

    /// <summary>Worth retrying later (429, 5xx, timeout, connection refused); counts against the circuit breaker.</summary>
    Transient,

    /// <summary>Retrying the same request cannot help (400, a rejected template).</summary>
    Permanent,

    /// <summary>The address or number does not exist / is not reachable at all: suppress it.</summary>
    InvalidRecipient,

    /// <summary>Kakao: the customer cannot be reached on Kakao (not a friend, no KakaoTalk): fall back to SMS/LMS.</summary>
    NotOnKakao,
}

public sealed record ProviderResult(ProviderStatus Status, string? MessageId, string? Reason, TimeSpan? RetryAfter = null)
{
    /// <summary>
    /// A transient failure after which the message may have gone out all the same (a timeout or reset once the request
    /// had left, a 500/502/504, an email operation still running): a retry may only go to the same provider.
    /// </summary>
    public bool MayHaveSent { get; init; }

    /// <summary>A 5xx the provider answers before processing (503 says so) is a clean failure; the others may hide a send.</summary>
    public static bool StatusMayHideASend(int status) => status is 500 or 502 or 504 or (> 504 and < 600);

    public static ProviderResult Accepted(string messageId) => new(ProviderStatus.Accepted, messageId, null);
}

/// <summary>What every provider has in common: a name for logs and breakers, and whether it dedupes by our key.</summary>
public interface IProvider
{
    string Name { get; }

    /// <summary>True if a repeated request under the same idempotency key (the delivery id) sends nothing new.</summary>
    bool DedupesByKey { get; }
}

public sealed record EmailRequest(string IdempotencyKey, string To, string Subject, string PlainText, string? Html, IReadOnlyDictionary<string, string> Headers);

public interface IEmailProvider : IProvider
{
    Task<ProviderResult> SendAsync(EmailRequest request, CancellationToken cancellationToken);
}

/// <summary>An SMS or LMS (<paramref name="Kind"/>); the body is final, labels applied. <paramref name="FirstAttemptAt"/> is stable across retries.</summary>
public sealed record SmsRequest(string IdempotencyKey, string To, string Kind, string Text, string? Subject, DateTimeOffset FirstAttemptAt);

public interface ISmsProvider : IProvider
{
    Task<ProviderResult> SendAsync(SmsRequest request, CancellationToken cancellationToken);
}

/// <summary>AlimTalk (template code + variables) or Brand Message; <see cref="ProviderStatus.NotOnKakao"/> asks the router to fall back.</summary>
public sealed record KakaoRequest(string IdempotencyKey, string To, string Kind, string Text, string? TemplateCode, IReadOnlyDictionary<string, string> Variables);

public interface IKakaoProvider : IProvider
{
    Task<ProviderResult> SendAsync(KakaoRequest request, CancellationToken cancellationToken);
}

/// <summary>Reads a Retry-After header (seconds or an HTTP date) the way the providers send it.</summary>
public static class RetryAfter
{
    public static TimeSpan? Parse(string? value, DateTimeOffset now)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        if (int.TryParse(value, out var seconds))
        {
            return TimeSpan.FromSeconds(Math.Max(0, seconds));
        }

        return DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at)
            ? at > now ? at - now : TimeSpan.Zero
            : null;
    }
}

/// <summary>Reading provider responses: the JSON body (null when empty or not JSON) and the Retry-After wait.</summary>
public static class ProviderResponses
{
    public static System.Text.Json.Nodes.JsonNode? Json(Azure.Response response)
    {
        try
        {
            return response.Content.ToArray().Length == 0 ? null : System.Text.Json.Nodes.JsonNode.Parse(response.Content.ToString());
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public static TimeSpan? RetryAfterOf(Azure.Response response, TimeProvider clock) =>
        RetryAfter.Parse(response.Headers.TryGetValue("Retry-After", out var value) ? value : null, clock.GetUtcNow());
}
