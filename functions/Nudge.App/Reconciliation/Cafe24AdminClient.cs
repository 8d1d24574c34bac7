using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core.Imports;
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
/// <c>actual_payment_amount</c>). An import walks the same searches forward in date windows from
/// <c>AdminImportSince</c> to its start (cursor: the window, the offset in it and the end), halving a window whose
/// records the offsets do not reach. Every answer's <c>X-Api-Call-Limit</c> (<c>used/size</c> of Cafe24's leaky
/// bucket) is honoured: past three quarters full, the next call waits for the bucket to drain back.
/// </summary>
public sealed class Cafe24AdminClient(IHttpClientFactory clients, Cafe24AdminTokens tokens, IOptions<Cafe24Options> options) : IShopAdminApi, IPlatformImportSource
{
    /// <summary>How fast Cafe24's call bucket drains: two calls a second.</summary>
    private const double DrainPerSecond = 2;

    /// <summary>Cafe24's times are Korean: what it writes without an offset, and what its searches are given.</summary>
    internal static readonly TimeSpan Korea = TimeSpan.FromHours(9);

    /// <summary>Cafe24 searches whole seconds, both ends included: a window of two holds the fewest it can be asked for.</summary>
    public TimeSpan SmallestWindow => TimeSpan.FromSeconds(2);

    public string Platform => Cafe24Webhook.Platform;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var arrayName = ArrayName(resource);
        var limit = settings.AdminPageLimit;
        string Page(int offset) => PageUrl(shop, resource, from, to, offset);

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

    public async Task<PlatformImportPage> ReadAsync(ShopAccount shop, string kind, string? cursor, CancellationToken cancellationToken)
    {
        try
        {
            return await ReadImportPageAsync(shop, kind, cursor, cancellationToken);
        }
        catch (HttpRequestException e) when (AdminApis.IsRefusal(e.StatusCode))
        {
            throw AdminApis.Refused("Cafe24", e.StatusCode); // a refreshed token was refused too
        }
    }

    private async Task<PlatformImportPage> ReadImportPageAsync(ShopAccount shop, string kind, string? cursor, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var window = TimeSpan.FromDays(settings.AdminImportWindowDays);
        // The platform's records are on real time, not the app's (possibly virtual) clock.
        var (from, to, offset, until) = cursor is null ? Window(settings.AdminImportSince, DateTimeOffset.UtcNow) : ImportCursor.Parse(cursor);
        long? expected = cursor is null ? await CountAsync(shop, kind, from, until, cancellationToken) : null;
        var arrayName = ArrayName(kind);
        var limit = settings.AdminPageLimit;
        var page = await GetPageAsync(shop, PageUrl(shop, kind, from, to, offset), arrayName, cancellationToken);
        if (offset == 0 && page.Count == limit && settings.AdminMaxOffset >= limit && to - from > SmallestWindow
            && (await GetPageAsync(shop, PageUrl(shop, kind, from, to, settings.AdminMaxOffset), arrayName, cancellationToken)).Count == limit)
        {
            // More than the offsets reach: read the window in halves, this page again with the first.
            return new PlatformImportPage([], new ImportCursor(from, from + ((to - from) / 2), 0, until).ToString(), expected);
        }

        string? next = page.Count == limit && offset + limit <= settings.AdminMaxOffset ? (new ImportCursor(from, to, offset + limit, until)).ToString()
            : to >= until ? null
            : Window(to + TimeSpan.FromSeconds(1), until).ToString(); // both ends are included: the next window starts a second later
        return new PlatformImportPage([.. page.Select(r => kind == ImportKinds.Orders ? WithPaymentAmount(r) : r)], next, expected);

        ImportCursor Window(DateTimeOffset start, DateTimeOffset end) => new(start, start + window < end ? start + window : end, 0, end);
    }

    /// <summary>Where an import is: the window (both ends included), the offset in it, and the end of the whole walk.</summary>
    private sealed record ImportCursor(DateTimeOffset From, DateTimeOffset To, int Offset, DateTimeOffset Until)
    {
        public override string ToString() => string.Join('|', From.ToUnixTimeSeconds(), To.ToUnixTimeSeconds(), Offset, Until.ToUnixTimeSeconds());

        public static ImportCursor Parse(string cursor)
        {
            var parts = cursor.Split('|').Select(p => long.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            return new(DateTimeOffset.FromUnixTimeSeconds(parts[0]), DateTimeOffset.FromUnixTimeSeconds(parts[1]), (int)parts[2], DateTimeOffset.FromUnixTimeSeconds(parts[3]));
        }
    }

    /// <summary>How many records the whole walk holds (<c>GET …/count</c>), for the import's estimate; null if Cafe24 will not say.</summary>
    private async Task<long?> CountAsync(ShopAccount shop, string kind, DateTimeOffset from, DateTimeOffset until, CancellationToken cancellationToken)
    {
        using var response = await SendWithTokenAsync(shop, PageUrl(shop, kind, from, until, offset: null), cancellationToken);
        AdminApis.ThrowIfRefused(response, "Cafe24");
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
        return JsonFields.GetInt64(document.RootElement, "count");
    }

    private static string ArrayName(string resource) => resource == "orders" ? "orders" : "customersprivacy";

    /// <summary>A search of <paramref name="resource"/> (<c>customers</c> or <c>orders</c>) by date, one page at <paramref name="offset"/> (none: its <c>/count</c>).</summary>
    private string PageUrl(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, int? offset)
    {
        var settings = options.Value;
        var dateType = resource == "orders" ? settings.AdminOrderDateType : settings.AdminMemberDateType;
        return $"{shop.AdminApiUrl!.TrimEnd('/')}/admin/{ArrayName(resource)}{(offset is null ? "/count" : "")}?date_type={Uri.EscapeDataString(dateType)}"
            + $"&start_date={Uri.EscapeDataString(Korean(from))}&end_date={Uri.EscapeDataString(Korean(to))}"
            + (offset is { } at ? $"&limit={settings.AdminPageLimit}&offset={at}" : "");
    }

    private static AdminWindowTooLargeException TooFull(string resource, DateTimeOffset from, DateTimeOffset to, int reachable) =>
        new($"More {resource} from {from:O} to {to:O} than Cafe24's offsets reach ({reachable}).");

    private async Task<List<ReadOnlyMemory<byte>>> GetPageAsync(ShopAccount shop, string url, string arrayName, CancellationToken cancellationToken)
    {
        using var response = await SendWithTokenAsync(shop, url, cancellationToken);
        using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
        return [.. AdminApis.Records(document.RootElement.TryGetProperty(arrayName, out var records) ? records : default)];
    }

    private async Task<HttpResponseMessage> SendWithTokenAsync(ShopAccount shop, string url, CancellationToken cancellationToken)
    {
        var token = await tokens.GetAsync(shop, rejected: null, cancellationToken);
        var response = await SendAsync(url, token, cancellationToken);
        if (response.StatusCode == HttpStatusCode.Unauthorized && shop.CanRefreshAdminToken)
        {
            response.Dispose(); // expired or revoked early: mint a new one, once
            response = await SendAsync(url, await tokens.GetAsync(shop, rejected: token, cancellationToken), cancellationToken);
        }

        return response;
    }

    private async Task<HttpResponseMessage> SendAsync(string url, string token, CancellationToken cancellationToken)
    {
        var response = await AdminApis.SendAsync(clients, () =>
        {
            var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Add("X-Cafe24-Api-Version", options.Value.ApiVersion);
            return request;
        }, cancellationToken);
        await Task.Delay(CallLimitWait(response), cancellationToken);
        return response;
    }

    /// <summary>
    /// <c>X-Api-Call-Limit: used/size</c>: past three quarters of the bucket, the wait until it has drained back to
    /// three quarters (so a long import never runs into 429s); otherwise none.
    /// </summary>
    private static TimeSpan CallLimitWait(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("X-Api-Call-Limit", out var values) || values.FirstOrDefault()?.Split('/') is not [var usedText, var sizeText]
            || !int.TryParse(usedText, CultureInfo.InvariantCulture, out var used) || !int.TryParse(sizeText, CultureInfo.InvariantCulture, out var size) || size <= 0)
        {
            return TimeSpan.Zero;
        }

        var over = used - (size * 0.75);
        return over <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(over / DrainPerSecond, AdminApis.MaxRetryDelay.TotalSeconds));
    }

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
