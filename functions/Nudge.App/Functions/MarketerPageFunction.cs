using System.ComponentModel;
using Microsoft.Azure.Functions.Worker;

namespace Nudge.App.Functions;

/// <summary>
/// <c>GET /api/app</c>: the marketer page (journeys, funnels, variants and holdout), one static file with its script
/// inline. It holds no data: it asks for the marketer key and sends it as <c>x-api-key</c> to the results API,
/// which stays the gate.
/// </summary>
public sealed class MarketerPageFunction
{
    private static readonly Lazy<string> Page = new(() =>
    {
        using var stream = typeof(MarketerPageFunction).Assembly.GetManifestResourceStream("Nudge.App.Page.index.html")
            ?? throw new InvalidOperationException("The marketer page is not embedded.");
        return new StreamReader(stream).ReadToEnd();
    });

    [Function("MarketerPage")]
    [Description("The marketer page: journey results with funnels, variants and holdout (asks for the x-api-key).")]
    public IResult Show([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "app")] HttpRequest request)
    {
        var headers = request.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data: blob:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        return Results.Content(Page.Value, "text/html; charset=utf-8");
    }
}
