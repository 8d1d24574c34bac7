using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nudge.Core.Imports;
using Nudge.Core.Ingest;

namespace Nudge.App.Reconciliation;

/// <summary>
/// Imports through the Admin GraphQL API's bulk operations (<c>POST {AdminApiUrl}/graphql.json</c>): the import's first
/// read runs <c>bulkOperationRunQuery</c> over every customer or order, the next ones poll the operation by
/// <c>node(id:)</c> until it is <c>COMPLETED</c>, then read its JSONL result from <c>url</c> a page of lines at a time.
/// The cursor is <c>{operation id}|{byte offset}</c>: a restarted import asks for the result's <c>url</c> again (it is
/// signed and expires; the operation's id does not) and reads on from the offset with an HTTP range. GraphQL's own
/// throttle (<c>THROTTLED</c>, with <c>extensions.cost.throttleStatus</c>) is waited out as a 429 is.
/// </summary>
public sealed partial class ShopifyAdminClient : IPlatformImportSource
{
    /// <summary>Records (JSONL lines) per page: one checkpoint each.</summary>
    public const int BulkLinesPerPage = 500;

    /// <summary>How long a read waits before asking again about an operation still running.</summary>
    public static readonly TimeSpan BulkPollInterval = TimeSpan.FromSeconds(2);

    /// <summary>A line longer than this is not a customer or an order: the import fails rather than hold it.</summary>
    private const int MaxLineBytes = 1024 * 1024;

    /// <summary>The cursor of an import whose bulk operation has not started yet (another of the app's bulk queries was running).</summary>
    private const string NotStarted = "start";

    /// <summary>
    /// The bulk queries (wire contracts with Shopify). Only root objects are read: no nested connections, so no
    /// <c>__parentId</c> lines (any that come are skipped). Orders older than 60 days need the <c>read_all_orders</c> scope.
    /// </summary>
    private static readonly IReadOnlyDictionary<string, string> BulkQueries = new Dictionary<string, string>
    {
        [ImportKinds.Customers] = "{ customers { edges { node { id email phone firstName createdAt updatedAt "
            + "emailMarketingConsent { marketingState consentUpdatedAt } smsMarketingConsent { marketingState consentUpdatedAt } } } } }",
        [ImportKinds.Orders] = "{ orders { edges { node { id createdAt customer { id } currencyCode totalPriceSet { shopMoney { amount currencyCode } } } } } }",
    };

    public async Task<PlatformImportPage> ReadAsync(ShopAccount shop, string kind, string? cursor, CancellationToken cancellationToken)
    {
        if (cursor is null or NotStarted)
        {
            return new PlatformImportPage([], await StartBulkAsync(shop, BulkQueries[kind], cancellationToken), null);
        }

        var parts = cursor.Split('|');
        var (operationId, offset) = (parts[0], long.Parse(parts[1], CultureInfo.InvariantCulture));
        using var status = await GraphQlAsync(shop,
            "query($id: ID!) { node(id: $id) { ... on BulkOperation { status errorCode rootObjectCount url } } }", new { id = operationId }, cancellationToken);
        var operation = status.RootElement.GetProperty("data").GetProperty("node");
        var expected = JsonFields.GetInt64(operation, "rootObjectCount"); // an UnsignedInt64: a string in JSON
        switch (JsonFields.GetString(operation, "status"))
        {
            case "CREATED" or "RUNNING":
                await Task.Delay(BulkPollInterval, cancellationToken);
                return new PlatformImportPage([], cursor, null);
            case "COMPLETED" when JsonFields.GetString(operation, "url") is { } url:
                var (records, next) = await ReadLinesAsync(url, offset, kind, cancellationToken);
                return new PlatformImportPage(records, next is { } nextOffset ? $"{operationId}|{nextOffset.ToString(CultureInfo.InvariantCulture)}" : null, expected);
            case "COMPLETED":
                return new PlatformImportPage([], null, 0); // nothing matched: Shopify writes no file
            case var ended:
                throw new PlatformImportException($"Shopify's bulk operation ended {ended ?? "unknown"} ({JsonFields.GetString(operation, "errorCode") ?? "no error code"})");
        }
    }

    /// <summary>
    /// Starts the bulk query, or adopts it if it is already running (an import that crashed right after starting it);
    /// while another of the app's bulk queries runs on the shop (Shopify runs one at a time), waits and says so.
    /// </summary>
    private async Task<string> StartBulkAsync(ShopAccount shop, string query, CancellationToken cancellationToken)
    {
        using (var current = await GraphQlAsync(shop, "{ currentBulkOperation { id status query } }", null, cancellationToken))
        {
            var running = current.RootElement.GetProperty("data").TryGetProperty("currentBulkOperation", out var op) && op.ValueKind == JsonValueKind.Object
                && JsonFields.GetString(op, "status") is "CREATED" or "RUNNING";
            if (running && JsonFields.GetString(op, "query") == query)
            {
                return $"{JsonFields.GetString(op, "id")}|0";
            }

            if (running)
            {
                await Task.Delay(BulkPollInterval, cancellationToken);
                return NotStarted;
            }
        }

        using var started = await GraphQlAsync(shop,
            "mutation($query: String!) { bulkOperationRunQuery(query: $query) { bulkOperation { id status } userErrors { field message code } } }", new { query }, cancellationToken);
        var run = started.RootElement.GetProperty("data").GetProperty("bulkOperationRunQuery");
        if (JsonFields.GetArray(run, "userErrors").FirstOrDefault() is { ValueKind: JsonValueKind.Object } error)
        {
            // Another bulk query started between the look and the start, or the shop's limit is reached: try again later.
            if (JsonFields.GetString(error, "code") is "OPERATION_IN_PROGRESS" or "LIMIT_REACHED")
            {
                await Task.Delay(BulkPollInterval, cancellationToken);
                return NotStarted;
            }

            throw new PlatformImportException($"Shopify refused the bulk query: {JsonFields.GetString(error, "message")}");
        }

        return $"{JsonFields.GetString(run.GetProperty("bulkOperation"), "id")}|0";
    }

    /// <summary>
    /// Up to <see cref="BulkLinesPerPage"/> records from <paramref name="offset"/> of the JSONL result, in the webhook
    /// shape, and the offset after the last whole line read (null at the end). The URL is signed: no token goes to it.
    /// </summary>
    private async Task<(List<ReadOnlyMemory<byte>> Records, long? Next)> ReadLinesAsync(string url, long offset, string kind, CancellationToken cancellationToken)
    {
        using var response = await AdminApis.SendAsync(clients, () => new HttpRequestMessage(HttpMethod.Get, url) { Headers = { Range = new RangeHeaderValue(offset, null) } }, cancellationToken);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return ([], null); // the offset is the file's end
        }

        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var skip = response.StatusCode == HttpStatusCode.PartialContent ? 0 : offset; // a server that ignores the range sends it all
        var records = new List<ReadOnlyMemory<byte>>();
        var line = new MemoryStream();
        var buffer = new byte[64 * 1024];
        var position = offset;
        int read;
        while (records.Count < BulkLinesPerPage && (read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            var chunk = buffer.AsMemory(0, read);
            if (skip > 0)
            {
                var skipped = (int)Math.Min(skip, read);
                (chunk, skip) = (chunk[skipped..], skip - skipped);
            }

            while (chunk.Length > 0 && records.Count < BulkLinesPerPage)
            {
                var end = chunk.Span.IndexOf((byte)'\n');
                line.Write(chunk.Span[..(end < 0 ? chunk.Length : end)]);
                if (line.Length > MaxLineBytes)
                {
                    throw new PlatformImportException($"Shopify's bulk result has a line over {MaxLineBytes} bytes");
                }

                if (end < 0)
                {
                    break;
                }

                position += line.Length + 1;
                chunk = chunk[(end + 1)..];
                if (WebhookShaped(kind, line.ToArray()) is { } record)
                {
                    records.Add(record);
                }

                line.SetLength(0);
            }
        }

        // A last line without its newline is whole once the stream has ended.
        if (records.Count < BulkLinesPerPage && line.Length > 0)
        {
            position += line.Length;
            if (WebhookShaped(kind, line.ToArray()) is { } record)
            {
                records.Add(record);
            }
        }

        return (records, records.Count < BulkLinesPerPage ? null : position);
    }

    /// <summary>
    /// A bulk result line in the REST webhook's shape, so the webhook's mapping reads it (one mapping per field):
    /// global ids become numeric ids, consent states lower case. Child lines (<c>__parentId</c>) and blank lines are skipped.
    /// </summary>
    private static ReadOnlyMemory<byte>? WebhookShaped(string kind, byte[] line)
    {
        if (line.AsSpan().Trim(" \r\t"u8).IsEmpty || JsonNode.Parse(line) is not JsonObject node || node.ContainsKey("__parentId"))
        {
            return null;
        }

        JsonObject shaped = kind == ImportKinds.Customers
            ? new()
            {
                ["id"] = LegacyId(node["id"]),
                ["email"] = node["email"]?.DeepClone(),
                ["phone"] = node["phone"]?.DeepClone(),
                ["first_name"] = node["firstName"]?.DeepClone(),
                ["created_at"] = node["createdAt"]?.DeepClone(),
                ["updated_at"] = node["updatedAt"]?.DeepClone(),
                ["email_marketing_consent"] = Consent(node["emailMarketingConsent"]),
                ["sms_marketing_consent"] = Consent(node["smsMarketingConsent"]),
            }
            : new()
            {
                ["id"] = LegacyId(node["id"]),
                ["customer"] = node["customer"] is JsonObject customer ? new JsonObject { ["id"] = LegacyId(customer["id"]) } : null,
                ["created_at"] = node["createdAt"]?.DeepClone(),
                ["currency"] = (node["totalPriceSet"]?["shopMoney"]?["currencyCode"] ?? node["currencyCode"])?.DeepClone(),
                ["total_price"] = node["totalPriceSet"]?["shopMoney"]?["amount"]?.DeepClone(),
            };
        return JsonSerializer.SerializeToUtf8Bytes(shaped);
    }

    /// <summary><c>gid://shopify/Customer/123</c> → <c>123</c>, the id webhooks carry.</summary>
    private static JsonNode? LegacyId(JsonNode? gid) =>
        gid?.GetValue<string>() is { } id && id[(id.LastIndexOf('/') + 1)..] is { Length: > 0 } tail ? JsonValue.Create(tail) : null;

    private static JsonObject? Consent(JsonNode? consent) => consent is JsonObject state
        ? new JsonObject { ["state"] = state["marketingState"]?.GetValue<string>().ToLowerInvariant(), ["consent_updated_at"] = state["consentUpdatedAt"]?.DeepClone() }
        : null;

    /// <summary>
    /// A GraphQL request with the shop's token. Shopify's cost throttle answers 200 with a <c>THROTTLED</c> error: the
    /// request is sent again once the bucket holds its cost (at the restore rate), as many times as a 429 would be.
    /// </summary>
    private async Task<JsonDocument> GraphQlAsync(ShopAccount shop, string query, object? variables, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var response = await AdminApis.SendAsync(clients, () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, $"{shop.AdminApiUrl!.TrimEnd('/')}/graphql.json")
                {
                    Content = JsonContent.Create(new { query, variables }),
                };
                request.Headers.Add("X-Shopify-Access-Token", shop.AdminAccessToken);
                return request;
            }, cancellationToken);
            AdminApis.ThrowIfRefused(response, "Shopify");
            var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
            var errors = JsonFields.GetArray(document.RootElement, "errors").ToList();
            if (errors.Count == 0)
            {
                return document;
            }

            var throttled = errors.Any(e => JsonFields.GetString(JsonFields.GetObject(e, "extensions"), "code") == "THROTTLED");
            var wait = ThrottleWait(document.RootElement);
            var message = JsonFields.GetString(errors[0], "message");
            document.Dispose();
            if (!throttled)
            {
                throw new PlatformImportException($"Shopify's GraphQL API answered: {message}");
            }

            if (attempt >= AdminApis.MaxRetries)
            {
                throw new HttpRequestException("Shopify's GraphQL API stayed throttled", null, HttpStatusCode.TooManyRequests);
            }

            await Task.Delay(wait, cancellationToken);
        }
    }

    /// <summary>How long until the bucket holds the request's cost: (cost − available) / restore rate, within the retry bounds.</summary>
    private static TimeSpan ThrottleWait(JsonElement root)
    {
        var cost = JsonFields.GetObject(JsonFields.GetObject(root, "extensions"), "cost");
        var throttle = JsonFields.GetObject(cost, "throttleStatus");
        var needed = JsonFields.GetDecimal(cost, "requestedQueryCost") ?? 0;
        var available = JsonFields.GetDecimal(throttle, "currentlyAvailable") ?? 0;
        var rate = JsonFields.GetDecimal(throttle, "restoreRate") ?? 0;
        var seconds = rate > 0 ? (double)((needed - available) / rate) : 1;
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 0.05, AdminApis.MaxRetryDelay.TotalSeconds));
    }
}
