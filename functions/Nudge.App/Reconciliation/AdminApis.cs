using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Nudge.App.Reconciliation;

/// <summary>The platforms' Admin API clients share one named HttpClient (30 s timeout), created per request by the factory.</summary>
public static class AdminApis
{
    /// <summary>
    /// The shortest window split further for the page-bounded APIs (Shopify, WooCommerce): 200 pages within one minute
    /// is more than a shop records, and shorter windows would only multiply requests.
    /// </summary>
    public static readonly TimeSpan PagedSmallestWindow = TimeSpan.FromMinutes(1);

    public const string HttpClientName = "admin-api";

    /// <summary>How often a rate-limited (429) or unavailable (503) request is tried again before the run gives up.</summary>
    public const int MaxRetries = 4;

    /// <summary>The longest wait a <c>Retry-After</c> may ask for.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Sends a request built by <paramref name="build"/> (a request can be sent once), retrying 429 and 503 answers after
    /// their <c>Retry-After</c> (else 1, 2, 4, 8 s), at most <see cref="MaxRetries"/> times. Other answers are returned as they are.
    /// </summary>
    public static async Task<HttpResponseMessage> SendAsync(IHttpClientFactory clients, Func<HttpRequestMessage> build, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = build();
            var response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            if (response.StatusCode is not (HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable) || attempt >= MaxRetries)
            {
                return response;
            }

            var delay = RetryDelay(response, attempt);
            response.Dispose();
            await Task.Delay(delay, cancellationToken);
        }
    }

    /// <summary>The answer's JSON body; a failure status throws (the status only: no URL, no credential).</summary>
    public static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken), cancellationToken: cancellationToken);
    }

    /// <summary>
    /// An import's read: an answer that will not change by asking again (credentials refused, the shop or its API not
    /// found) fails the import with its status; other failures throw as <see cref="ReadJsonAsync"/> does, for the queue to retry.
    /// </summary>
    public static void ThrowIfRefused(HttpResponseMessage response, string platform)
    {
        if (IsRefusal(response.StatusCode))
        {
            throw Refused(platform, response.StatusCode);
        }
    }

    /// <summary>Credentials refused, the shop or its API not found, the shop's plan lapsed: asking again changes nothing.</summary>
    public static bool IsRefusal(HttpStatusCode? status) =>
        status is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.PaymentRequired;

    public static Core.Imports.PlatformImportException Refused(string platform, HttpStatusCode? status) =>
        new($"{platform}'s Admin API answered HTTP {(int?)status}");

    /// <summary>Each element of a JSON array, as its own UTF-8 record.</summary>
    public static IEnumerable<ReadOnlyMemory<byte>> Records(JsonElement array) =>
        array.ValueKind == JsonValueKind.Array ? array.EnumerateArray().Select(r => (ReadOnlyMemory<byte>)JsonSerializer.SerializeToUtf8Bytes(r)) : [];

    private static TimeSpan RetryDelay(HttpResponseMessage response, int attempt)
    {
        var delay = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => response.Headers.TryGetValues("Retry-After", out var values) && double.TryParse(values.FirstOrDefault(), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds)
                : TimeSpan.FromSeconds(1 << attempt),
        };
        return delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxRetryDelay ? MaxRetryDelay : delay;
    }
}
