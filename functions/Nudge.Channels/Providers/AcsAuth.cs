using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Nudge.Channels.Providers;

/// <summary>An ACS connection string: <c>endpoint=https://….communication.azure.com/;accesskey=…</c>.</summary>
public sealed record AcsConnectionString(Uri Endpoint, string AccessKey)
{
    public static AcsConnectionString Parse(string connectionString)
    {
        var parts = connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0].ToLowerInvariant(), p => p[1]);
        if (!parts.TryGetValue("endpoint", out var endpoint) || !Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || !parts.TryGetValue("accesskey", out var key))
        {
            throw new FormatException("An ACS connection string has the form 'endpoint=https://<resource>.communication.azure.com/;accesskey=<key>'.");
        }

        return new AcsConnectionString(uri, key);
    }
}

/// <summary>
/// ACS access-key authentication, only where no identity is possible: each request is signed with HMAC-SHA256
/// over the method, path and query, and the x-ms-date, host and x-ms-content-sha256 headers.
/// </summary>
public sealed class AcsHmacPolicy(string accessKey, TimeProvider clock) : HttpPipelineSynchronousPolicy
{
    private readonly byte[] _key = Convert.FromBase64String(accessKey);

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        using var body = new MemoryStream();
        request.Content?.WriteTo(body, message.CancellationToken);
        var contentHash = Convert.ToBase64String(SHA256.HashData(body.ToArray()));
        var date = clock.GetUtcNow().ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        var uri = request.Uri.ToUri();
        var stringToSign = $"{request.Method}\n{uri.PathAndQuery}\n{date};{uri.Authority};{contentHash}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.SetValue("x-ms-date", date);
        request.Headers.SetValue("x-ms-content-sha256", contentHash);
        request.Headers.SetValue("Authorization", $"HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}");
    }

    /// <summary>The signature a server computes to check a request (the test stubs use it).</summary>
    public static string Sign(string accessKey, string method, string pathAndQuery, string date, string authority, string contentHash) =>
        Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(accessKey), Encoding.UTF8.GetBytes($"{method}\n{pathAndQuery}\n{date};{authority};{contentHash}")));
}

/// <summary>Client options for the ACS pipelines: the worker's queue does the retrying, under the same idempotency key.</summary>
public sealed class AcsClientOptions : ClientOptions
{
    public AcsClientOptions(TimeSpan timeout)
    {
        Retry.MaxRetries = 0;
        Retry.NetworkTimeout = timeout;
        Diagnostics.IsLoggingContentEnabled = false;
        Diagnostics.ApplicationId = "nudge";
    }

    /// <summary>The Entra ID scope for Azure Communication Services.</summary>
    public const string Scope = "https://communication.azure.com//.default";

    public static HttpPipeline Build(AcsClientOptions options, TokenCredential? credential, string? accessKey, TimeProvider clock) =>
        HttpPipelineBuilder.Build(options, credential is not null
            ? new BearerTokenAuthenticationPolicy(credential, Scope)
            : new AcsHmacPolicy(accessKey ?? throw new ArgumentNullException(nameof(accessKey)), clock));
}
