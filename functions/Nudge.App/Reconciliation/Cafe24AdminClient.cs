using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
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
/// offsets reach is halved until each half fits (a full page at the largest offset is the sign). Members are found by
/// join time, so later changes to older members are not (as with WooCommerce). Records go out as the webhook's
/// <c>resource</c> (the field names are the same; an order's <c>actual_order_amount.payment_amount</c> is lifted to
/// <c>actual_payment_amount</c>).
/// </summary>
public sealed partial class Cafe24AdminClient(IHttpClientFactory clients, Cafe24AdminTokens tokens, IOptions<Cafe24Options> options, ILogger<Cafe24AdminClient> logger) : IShopAdminApi
{
    /// <summary>Cafe24's times are Korean: what it writes without an offset, and what its searches are given.</summary>
    internal static readonly TimeSpan Korea = TimeSpan.FromHours(9);

    /// <summary>A window this short is not split further: what the offsets reach is read, the rest is logged.</summary>
    private static readonly TimeSpan SmallestWindow = TimeSpan.FromSeconds(2);

    public string Platform => Cafe24Webhook.Platform;

    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var (path, dateType) = resource == "orders" ? ("admin/orders", settings.AdminOrderDateType) : ("admin/customersprivacy", settings.AdminMemberDateType);
        var arrayName = path["admin/".Length..];
        var limit = settings.AdminPageLimit;
        var windows = new Stack<(DateTimeOffset From, DateTimeOffset To)>([(from, to)]);
        while (windows.TryPop(out var window))
        {
            string Page(int offset) => $"{shop.AdminApiUrl!.TrimEnd('/')}/{path}?date_type={Uri.EscapeDataString(dateType)}"
                + $"&start_date={Uri.EscapeDataString(Korean(window.From))}&end_date={Uri.EscapeDataString(Korean(window.To))}&limit={limit}&offset={offset}";

            var page = await GetPageAsync(shop, Page(0), arrayName, cancellationToken);
            if (page.Count == limit && settings.AdminMaxOffset >= limit && (await GetPageAsync(shop, Page(settings.AdminMaxOffset), arrayName, cancellationToken)).Count == limit)
            {
                if (window.To - window.From > SmallestWindow)
                {
                    var middle = window.From + ((window.To - window.From) / 2);
                    windows.Push((middle.AddSeconds(1), window.To)); // the API reads whole seconds, both ends included
                    windows.Push((window.From, middle));
                    continue;
                }

                LogWindowTooFull(logger, shop.Domain, resource, settings.AdminMaxOffset + limit);
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
        }
    }

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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cafe24 mall {Mall}: more {Resource} in one second than the API's offsets reach ({Reachable}); the rest of that second is not reconciled")]
    private static partial void LogWindowTooFull(ILogger logger, string mall, string resource, int reachable);
}
