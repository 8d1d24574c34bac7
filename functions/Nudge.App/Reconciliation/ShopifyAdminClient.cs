using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Reconciliation;

/// <summary>
/// Shopify's Admin REST API: <c>GET {AdminApiUrl}/{customers|orders}.json?updated_at_min=&amp;updated_at_max=&amp;limit=250</c>
/// with <c>X-Shopify-Access-Token</c>, following cursor pagination through the <c>Link: &lt;…&gt;; rel="next"</c> header.
/// <c>AdminApiUrl</c> is the shop's versioned base, e.g. <c>https://shop.myshopify.com/admin/api/2025-10</c>.
/// </summary>
public sealed partial class ShopifyAdminClient(IHttpClientFactory clients) : IShopAdminApi
{
    private const int PageSize = 250;

    public string Platform => ShopifyWebhook.Platform;

    public TimeSpan SmallestWindow => AdminApis.PagedSmallestWindow;

    /// <summary>A bound on the pages of one window; past it the reconciler reads the window in halves.</summary>
    public const int MaxPages = 200;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var status = resource == "orders" ? "&status=any" : "";
        var next = $"{shop.AdminApiUrl!.TrimEnd('/')}/{resource}.json?limit={PageSize}{status}"
            + $"&updated_at_min={Uri.EscapeDataString(from.ToString("o", CultureInfo.InvariantCulture))}&updated_at_max={Uri.EscapeDataString(to.ToString("o", CultureInfo.InvariantCulture))}";
        for (var page = 0; next is not null && page < MaxPages; page++)
        {
            var url = next;
            using var response = await AdminApis.SendAsync(clients, () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.Add("X-Shopify-Access-Token", shop.AdminAccessToken);
                return request;
            }, cancellationToken);
            using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
            foreach (var record in AdminApis.Records(document.RootElement.TryGetProperty(resource, out var records) ? records : default))
            {
                yield return record;
            }

            next = response.Headers.TryGetValues("Link", out var links) ? NextLink(string.Join(",", links)) : null;
        }

        if (next is not null)
        {
            throw new AdminWindowTooLargeException($"More than {MaxPages} pages of {resource} from {from:O} to {to:O}.");
        }
    }

    private static string? NextLink(string header) => NextLinkPattern().Match(header) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex("<([^>]+)>;\\s*rel=\"next\"")]
    private static partial Regex NextLinkPattern();
}
