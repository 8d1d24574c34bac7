using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Nudge.App.Functions;

/// <summary>Small HTTP helpers shared by the HTTP functions.</summary>
public static class Http
{
    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(statusCode: status, title: title, detail: detail);

    public static bool IsJson(HttpRequest request) =>
        request.ContentType is { } type
        && (type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.Contains("+json", StringComparison.OrdinalIgnoreCase)));

    /// <summary>The raw body, or null if it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<ReadOnlyMemory<byte>?> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return null;
        }

        if (request.ContentLength is { } length)
        {
            // The common case on every hot endpoint: one array of the announced size, no intermediate copies.
            var exact = new byte[length];
            var filled = 0;
            int read;
            while (filled < exact.Length && (read = await request.Body.ReadAsync(exact.AsMemory(filled), cancellationToken)) > 0)
            {
                filled += read;
            }

            // Kestrel enforces Content-Length; a shorter body means the client went away mid-request.
            return exact.AsMemory(0, filled);
        }

        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            int read;
            while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                if (buffer.Length + read > maxBytes)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }

    /// <summary>How many dead letters one replay call moves at most.</summary>
    public const int MaxReplay = 1000;

    /// <summary>The replay endpoints' optional <c>max</c> (100 when absent), or the 400 to answer when it is not 1 to <see cref="MaxReplay"/>.</summary>
    public static (int Max, ProblemHttpResult? Problem) ReplayMax(HttpRequest request)
    {
        var text = request.Query["max"].ToString();
        if (text.Length == 0)
        {
            return (100, null);
        }

        return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var max) && max is > 0 and <= MaxReplay
            ? (max, null)
            : (0, Problem(StatusCodes.Status400BadRequest, "Invalid max", $"'max' must be a whole number from 1 to {MaxReplay}."));
    }

    /// <summary>The marketer API's guard: the 401 (problem body) to answer unless x-api-key is the marketer key; null if it is.</summary>
    public static ProblemHttpResult? RequireMarketerKey(HttpRequest request, Hosting.NudgeOptions options) =>
        HasApiKey(request, options.MarketerApiKey)
            ? null
            : TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized", detail: "Send the marketer API key in the x-api-key header.");

    /// <summary>The 503 (with Retry-After) of a request that needs the segment index while the app is still loading it.</summary>
    public static ProblemHttpResult SegmentIndexLoading(HttpRequest request)
    {
        request.HttpContext.Response.Headers.RetryAfter = "10";
        return Problem(StatusCodes.Status503ServiceUnavailable, "Segment index loading", "The app is loading its segment index; ask again shortly.");
    }

    /// <summary>Whether the request's x-api-key is <paramref name="expected"/> (<see cref="Core.SecretComparison"/>).</summary>
    public static bool HasApiKey(HttpRequest request, string? expected) =>
        Core.SecretComparison.Matches(request.Headers["x-api-key"].ToString(), expected);
}
