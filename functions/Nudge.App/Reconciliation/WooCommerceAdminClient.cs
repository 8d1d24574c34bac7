using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Nudge.Core.Imports;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Reconciliation;

/// <summary>
/// WooCommerce's REST API v3 (<c>AdminApiUrl</c> = <c>https://site/wp-json/wc/v3</c>, <c>AdminAccessToken</c> =
/// <c>consumer_key:consumer_secret</c>, sent as HTTP Basic over HTTPS). Orders: <c>modified_after</c> /
/// <c>modified_before</c>. Customers have no modified filter: they are read newest registered first and the read
/// stops at the window's start, so new customers are found, later changes to older customers are not. Pages through
/// <c>page</c> until <c>X-WP-TotalPages</c>. An import reads every customer or order by ascending id, a page at a time
/// (the cursor is the page number), with <c>X-WP-Total</c> as the count to expect.
/// </summary>
public sealed class WooCommerceAdminClient(IHttpClientFactory clients) : IShopAdminApi, IPlatformImportSource
{
    private const int PageSize = 100;
    private const int MaxPages = 200;

    public string Platform => WooCommerceWebhook.Platform;

    public TimeSpan SmallestWindow => AdminApis.PagedSmallestWindow;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var query = resource == "orders"
            ? $"modified_after={Uri.EscapeDataString(Iso(from))}&modified_before={Uri.EscapeDataString(Iso(to))}"
            : "orderby=registered_date&order=desc";
        for (var page = 1; page <= MaxPages; page++)
        {
            using var response = await GetAsync(shop, $"{resource}?per_page={PageSize}&page={page}&{query}", cancellationToken);
            using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
            if (document.RootElement.ValueKind != JsonValueKind.Array || document.RootElement.GetArrayLength() == 0)
            {
                yield break;
            }

            foreach (var record in document.RootElement.EnumerateArray())
            {
                if (resource == "customers" && JsonFields.TryGetTime(record, "date_created_gmt", out var created) && created < from)
                {
                    yield break; // newest first: the rest are older than the window
                }

                yield return JsonSerializer.SerializeToUtf8Bytes(record);
            }

            if (page >= (Header(response, "X-WP-TotalPages") ?? page))
            {
                yield break;
            }
        }

        // Orders are listed by the window, so a smaller window reads fewer (the reconciler splits it); customers are
        // listed newest first down to the window's start, which a smaller window would not shorten.
        if (resource == "orders")
        {
            throw new AdminWindowTooLargeException($"More than {MaxPages} pages of orders from {from:O} to {to:O}.");
        }
    }

    /// <summary>
    /// Ascending ids: a customer or order added while the import runs lands on a later page and shifts none already
    /// read. (One deleted meanwhile shifts the rest a place back: the first record of the next page is then missed, and
    /// webhooks and reconciliation stay the net for it.)
    /// </summary>
    public async Task<PlatformImportPage> ReadAsync(ShopAccount shop, string kind, string? cursor, CancellationToken cancellationToken)
    {
        var page = cursor is null ? 1 : int.Parse(cursor, CultureInfo.InvariantCulture);
        using var response = await GetAsync(shop, $"{kind}?per_page={PageSize}&page={page}&orderby=id&order=asc", cancellationToken);
        AdminApis.ThrowIfRefused(response, "WooCommerce");
        using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
        var records = AdminApis.Records(document.RootElement).ToList();
        var more = records.Count > 0 && page < (Header(response, "X-WP-TotalPages") ?? page + 1);
        return new PlatformImportPage(records, more ? (page + 1).ToString(CultureInfo.InvariantCulture) : null, Header(response, "X-WP-Total"));
    }

    private Task<HttpResponseMessage> GetAsync(ShopAccount shop, string pathAndQuery, CancellationToken cancellationToken) =>
        AdminApis.SendAsync(clients, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, $"{shop.AdminApiUrl!.TrimEnd('/')}/{pathAndQuery}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(shop.AdminAccessToken!)));
            return request;
        }, cancellationToken);

    private static int? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) && int.TryParse(values.FirstOrDefault(), CultureInfo.InvariantCulture, out var n) ? n : null;

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
}
