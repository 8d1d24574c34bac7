using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Reconciliation;

/// <summary>
/// Cafe24's Admin REST API (<c>AdminApiUrl</c> = <c>https://{mall_id}.cafe24api.com/api/v2</c>): members from
/// <c>GET admin/customersprivacy</c> and orders from <c>GET admin/orders</c>, selected by <c>date_type</c>,
/// <c>start_date</c> and <c>end_date</c> (ISO 8601 in Korean time), with a bearer token and <c>X-Cafe24-Api-Version</c>.
/// Pages through <c>limit</c>/<c>offset</c>; since Cafe24 caps the offset, a window holding more records than the
/// offsets reach (a full page at the largest offset is the sign) is reported too large, and the reconciler reads it
/// in halves down to <see cref="SmallestWindow"/>. Members are found by
/// join time, so later changes to older members are not (as with WooCommerce). Records go out as the webhook's
/// <c>resource</c> (the field names are the same; an order's <c>actual_order_amount.payment_amount</c> is lifted to
/// <c>actual_payment_amount</c>).
/// </summary>
public sealed class Cafe24AdminClient(IHttpClientFactory clients, Cafe24AdminTokens tokens, IOptions<Cafe24Options> options) : IShopAdminApi
{
    /// <summary>Cafe24's times are Korean: what it writes without an offset, and what its searches are given.</summary>
    internal static readonly TimeSpan Korea = TimeSpan.FromHours(9);

    /// <summary>Cafe24 searches whole seconds, both ends included: a window of two holds the fewest it can be asked for.</summary>
    public TimeSpan SmallestWindow => TimeSpan.FromSeconds(2);

    public string Platform => Cafe24Webhook.Platform;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (path, dateType) = resource == "orders" ? ("admin/orders", settings.AdminOrderDateType) : ("admin/customersprivacy", settings.AdminMemberDateType);
        var arrayName = path["admin/".Length..];
        var limit = settings.AdminPageLimit;
        string Page(int offset) => $"{shop.AdminApiUrl!.TrimEnd('/')}/{path}?date_type={Uri.EscapeDataString(dateType)}"
            + $"&start_date={Uri.EscapeDataString(Korean(from))}&end_date={Uri.EscapeDataString(Korean(to))}&limit={limit}&offset={offset}";

        // A full page at the largest offset: more records than the offsets reach. Said before reading anything, so the
        // reconciler's halves are the only reads; a window it splits no further is read as far as the offsets reach.
        var page = await GetPageAsync(shop, Page(0), arrayName, cancellationToken);
        var tooFull = page.Count == limit && settings.AdminMaxOffset >= limit
            && (await GetPageAsync(shop, Page(settings.AdminMaxOffset), arrayName, cancellationToken)).Count == limit;
        if (tooFull && to - from > SmallestWindow)
        {
            throw TooFull(resource, from, to, settings.AdminMaxOffset + limit);
        }

        for (var offset = limit; ; offset += limit)
        {
            foreach (var record in page)
            {
                yield return resource == "orders" ? WithPaymentAmount(record) : record;
            }

            if (page.Count < limit || offset > settings.AdminMaxOffset)
            {
                break;
            }

            page = await GetPageAsync(shop, Page(offset), arrayName, cancellationToken);
        }

        if (tooFull)
        {
            throw TooFull(resource, from, to, settings.AdminMaxOffset + limit);
        }
    }

    private static AdminWindowTooLargeException TooFull(string resource, DateTimeOffset from, DateTimeOffset to, int reachable) =>
        new($"More {resource} from {from:O} to {to:O} than Cafe24's offsets reach ({reachable}).");

    private async Task<List<ReadOnlyMemory<byte>>> GetPageAsync(ShopAccount shop, string url, string arrayName, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(shop, rejected: null, cancellationToken);
        var response = await SendAsync(url, token, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && shop.CanRefreshAdminToken)
        {
            response.Dispose(); // expired or revoked early: mint a new one, once
            response = await SendAsync(url, await tokens.GetAsync(shop, rejected: token, cancellationToken), cancellationToken);
        }

        using (response)
        {
            using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
            return [.. AdminApis.Records(document.RootElement.TryGetProperty(arrayName, out var records) ? records : default)];
        }
    }

    private Task<HttpResponseMessage> SendAsync(string url, string token, CancellationToken cancellationToken) =>
        AdminApis.SendAsync(clients, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Cafe24-Api-Version", options.Value.ApiVersion);
            return request;
        }, cancellationToken);

    private static string Korean(DateTimeOffset time) => time.ToOffset(Korea).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture);

    private static ReadOnlyMemory<byte> WithPaymentAmount(ReadOnlyMemory<byte> order)
    {
        if (JsonNode.Parse(order.Span) is not JsonObject node || node.ContainsKey("actual_payment_amount")
            || node["actual_order_amount"] is not JsonObject { } amounts || amounts["payment_amount"] is not { } paid)
        {
            return order;
        }

        node["actual_payment_amount"] = paid.DeepClone();
        return JsonSerializer.SerializeToUtf8Bytes(node);
    }
}
