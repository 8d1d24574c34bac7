using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Data.Tables;
using Nudge.App.Hosting;
using Nudge.Core.Ingest;
using Nudge.Testing;
using static Nudge.App.Tests.IngestSourcesTests;

namespace Nudge.App.Tests;

/// <summary>
/// Random and structured hostile requests to every HTTP endpoint the app declares (its function catalog, so a new
/// endpoint is fuzzed too): random bytes, deep nesting, huge numbers, wrong types, invalid escapes, lone surrogates,
/// oversized headers and query values, Liquid that would run forever. Each request is sent without credentials and
/// with them (signed for the webhooks, the marketer key elsewhere), so hostile bodies reach the parsers. Asserted:
/// never a 5xx, every answer within a bound, nothing stored but what the app acknowledged as accepted, and the app
/// still serves afterwards. Seeded. (A signed delivery is never refused for its shape: one whose hostile values
/// still name a customer, such as an id of 0, is a genuine delivery, and the app stores it and says so.)
/// </summary>
public partial class HostileInputFuzzTests : IAsyncLifetime
{
    private const int Seed = 20261207;
    private const int RequestsPerEndpoint = 24;

    /// <summary>Generous for a loaded CI machine; an unbounded request (a Liquid loop of 10^8, a 5M-customer simulation) takes far longer.</summary>
    private static readonly TimeSpan MaxAnswerTime = TimeSpan.FromSeconds(10);

    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync(settings: Shops);

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Values no parser can take as an id, a key or a valid setting: a request carrying only these can never be stored.</summary>
    private static readonly string[] HostileValues =
    [
        "\"\\ud800\"", "\"\\udfff\\ud800x\"", "\"a\\ud800b\"", "1e400", "-1e400", "-1", "0", "99999999999999999999999999", "-0.000000001", "null", "true", "[]", "{}",
        "\"\"", "\"   \"", "\"a/b\"", "\"../../etc\"", "\"\\u0000\"", "\"2026-13-45T99:99:99Z\"", "\"" + new string('x', 5000) + "\"",
        Deep(100), "[" + string.Join(",", Enumerable.Repeat("{}", 2000)) + "]", "\"{% for i in (1..100000000) %}x{% endfor %}\"",
        "\"{% assign s = 'x' %}{% for i in (1..60) %}{% assign s = s | append: s %}{% endfor %}{{ s }}\"", "\"{{ 'x' | replace: 'x', 'yyyyyyyy' }}\"",
    ];

    /// <summary>Field names every endpoint reads somewhere: with hostile values they reach the parsers' every branch.</summary>
    private static readonly string[] Fields =
    [
        "id", "created_at", "updated_at", "customer", "customer_id", "line_items", "variants", "status", "date_created_gmt", "event_no", "resource",
        "mall_id", "member_id", "diff_key", "type", "messageId", "userId", "timestamp", "event", "properties", "traits", "batch", "shop_domain",
        "channel", "class", "text", "subject", "html", "entry", "steps", "exitOn", "condition", "scenario", "customers", "days", "population",
        "useDraft", "version", "eventType", "data", "customFields", "statusCode", "email_marketing_consent", "order_id", "transactions",
    ];

    private static string Deep(int depth) => new string('[', depth) + new string(']', depth);

    [Fact]
    public async Task EveryEndpoint_HostileRequests_NeverAnswer5xx_AnswerInBoundedTime_StoreNothing_AndLeaveTheAppServing()
    {
        var endpoints = FunctionCatalog.Default.Http.SelectMany(f => f.Verbs.Select(verb => (f.Name, Route: f.Route, Verb: verb))).ToList();
        Assert.True(endpoints.Count >= 25, "the catalog lists the app's endpoints");
        var before = await CountRowsAsync();
        var random = new Random(Seed);
        var failures = new List<string>();
        var acceptedEvents = 0;
        var acceptedAny = false;

        foreach (var (name, route, verb) in endpoints)
        {
            for (var i = 0; i < RequestsPerEndpoint; i++)
            {
                using var request = Hostile(random, route, verb, credentials: i % 2 == 1);
                var what = $"{name} {request.Method} {Truncate(request.RequestUri!.ToString())}";
                var watch = Stopwatch.StartNew();
                HttpResponseMessage response;
                try
                {
                    response = await _app.Client.SendAsync(request);
                }
                catch (HttpRequestException e)
                {
                    failures.Add($"{what}: the connection failed ({e.Message})");
                    continue;
                }

                using (response)
                {
                    if ((int)response.StatusCode >= 500)
                    {
                        failures.Add($"{what}: {(int)response.StatusCode} {Truncate(await response.Content.ReadAsStringAsync())}");
                    }

                    if (watch.Elapsed > MaxAnswerTime)
                    {
                        failures.Add($"{what}: answered after {watch.Elapsed.TotalSeconds:0.0} s");
                    }

                    if (response.IsSuccessStatusCode && Accepted(await response.Content.ReadAsStringAsync()) is var (any, events))
                    {
                        acceptedAny |= any;
                        acceptedEvents += events;
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        await _app.WaitForQueuesToDrainAsync();
        var after = await CountRowsAsync();
        // What marketers own never changes; what a customer's delivery writes changes only after an acknowledged one,
        // and the events stored are at most the events acknowledged.
        var names = _app.Names;
        var marketers = new[] { names.Journeys, names.JourneyVersions, names.Segments, names.PrivacyAudit, names.Suppressions };
        Assert.Equal(marketers.ToDictionary(t => t, t => before[t]), marketers.ToDictionary(t => t, t => after[t]));
        if (!acceptedAny)
        {
            Assert.Equal(before, after);
        }

        Assert.InRange(after[names.Events] - before[names.Events], 0, acceptedEvents);

        // Still serving: healthy, and a genuine delivery is taken.
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/create", NudgeTestApp.Customer(9901)))).StatusCode);
    }

    [Fact]
    public async Task SignedWebhookWithALoneSurrogateEscape_IsAnsweredWithoutAServerError()
    {
        foreach (var body in new[]
        {
            """{"id":9902,"email":"\ud800","first_name":"\udfff","created_at":"2026-11-24T10:00:00Z"}""",
            """{"id":"\ud800","created_at":"2026-11-24T10:00:00Z"}""",
            """{"id":9903,"created_at":"\ud800"}""",
        })
        {
            var response = await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/create", body));
            Assert.InRange((int)response.StatusCode, 200, 299);
        }

        Assert.InRange((int)(await _app.Client.SendAsync(Woo("customer.created", """{"id":9904,"email":"\ud800","date_created_gmt":"\ud800"}"""))).StatusCode, 200, 299);
        Assert.InRange((int)(await _app.Client.SendAsync(Cafe24("""{"event_no":90032,"resource":{"mall_id":"koreamall","member_id":"\ud800","created_date":"2026-11-24T10:00:00+09:00"}}"""))).StatusCode, 200, 299);
        Assert.InRange((int)(await _app.Client.SendAsync(Events("/api/events", """{"type":"identify","messageId":"m-9905","userId":"u9905","timestamp":"2026-11-24T01:00:00Z","traits":{"email":"\ud800"}}"""))).StatusCode, 200, 299);
    }

    private HttpRequestMessage Hostile(Random random, string route, string verb, bool credentials)
    {
        var path = "/api/" + RouteValues().Replace(route, _ => Pick(random, ["x", "publish", "shopify", "welcome", "..%2F..", "%00", new string('a', 3000), "%F0%9F%98%80", "%ED%A0%80", "1"]));
        var query = random.Next(3) switch
        {
            0 => "",
            1 => $"?max={Pick(random, ["-1", "0", "1000001", "1e9", "abc", "5"])}&channel={Pick(random, ["email", "x", ""])}&queue={Pick(random, ["ingest-batches", "../x", ""])}",
            _ => $"?t={Uri.EscapeDataString(Pick(random, ["", "x.y", new string('A', 4000), "a.b.c"]))}&key={Pick(random, ["", "wrong"])}&platform=shopify&customerId={Pick(random, ["1", "%00", new string('9', 500)])}",
        };
        var body = Body(random);
        var request = new HttpRequestMessage(new HttpMethod(verb), path + query);
        if (verb is not ("GET" or "HEAD"))
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.TryAddWithoutValidation("Content-Type", Pick(random, ["application/json", "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded", "application/problem+json"]));
        }

        if (random.Next(6) == 0)
        {
            request.Headers.TryAddWithoutValidation("X-Oversized", new string('h', 12_000));
        }

        if (credentials)
        {
            // Signed with each source's real secret and carrying the marketer key, so hostile bodies get past verification.
            // (Not shop/redact: any signed object is a genuine request to erase the shop, whatever else it holds.)
            request.Headers.TryAddWithoutValidation("x-api-key", NudgeTestApp.ApiKey);
            request.Headers.TryAddWithoutValidation("X-Shopify-Topic", Pick(random, ["customers/create", "customers/update", "orders/create", "orders/paid", "refunds/create", "checkouts/create", "carts/update", "products/update", "customers/redact", "customers_email_marketing_consent/update"]));
            request.Headers.TryAddWithoutValidation("X-Shopify-Shop-Domain", ShopA);
            request.Headers.TryAddWithoutValidation("X-Shopify-Webhook-Id", Guid.NewGuid().ToString());
            request.Headers.TryAddWithoutValidation("X-Shopify-Triggered-At", Pick(random, ["2026-11-24T10:00:00Z", "not-a-time", "9999-99-99", new string('1', 60)]));
            request.Headers.TryAddWithoutValidation("X-Shopify-Hmac-Sha256", SignBytes(body, SecretA));
            request.Headers.TryAddWithoutValidation("X-WC-Webhook-Topic", Pick(random, ["customer.created", "order.updated", "product.updated", "order.deleted"]));
            request.Headers.TryAddWithoutValidation("X-WC-Webhook-Source", "https://woo.example/");
            request.Headers.TryAddWithoutValidation("X-WC-Webhook-Delivery-ID", Guid.NewGuid().ToString("N"));
            request.Headers.TryAddWithoutValidation("X-WC-Webhook-Signature", SignBytes(body, WooSecret));
            request.Headers.TryAddWithoutValidation("X-Api-Key", MallKey);
            request.Headers.TryAddWithoutValidation("X-Nudge-Source", EventsSource);
            request.Headers.TryAddWithoutValidation("X-Nudge-Signature", SignBytes(body, EventsSecret));
        }
        else if (random.Next(2) == 0)
        {
            request.Headers.TryAddWithoutValidation("x-api-key", Pick(random, ["wrong-key-0000000000", "", NudgeTestApp.ApiKey[..^1]]));
            request.Headers.TryAddWithoutValidation("X-Shopify-Shop-Domain", Pick(random, [ShopA, "evil.myshopify.com", "a" + new string('.', 300)]));
            request.Headers.TryAddWithoutValidation("X-Shopify-Hmac-Sha256", Pick(random, ["", "AAAA", "not base64!"]));
            request.Headers.TryAddWithoutValidation("X-Shopify-Topic", "customers/create");
            request.Headers.TryAddWithoutValidation("X-Shopify-Webhook-Id", "w-1");
        }

        return request;
    }

    private static byte[] Body(Random random)
    {
        switch (random.Next(5))
        {
            case 0:
                var bytes = new byte[random.Next(0, 2048)];
                random.NextBytes(bytes);
                return bytes;
            case 1:
                return Encoding.UTF8.GetBytes(Pick(random, [Deep(5000), "{\"a\":" + Deep(70) + "}", "\"\\x\"", "{\"id\":\"\\u12\"}", "{", "nul", "1e999999", new string('9', 100_000), "\uFEFF{}", "{\"id\":1,\"id\":2}"]));
            default:
                // A JSON object of known fields with hostile values, sometimes nested one level (resource, scenario, batch…).
                var pairs = Enumerable.Range(0, random.Next(1, 12)).Select(_ => $"\"{Pick(random, Fields)}\":{Value(random)}");
                var inner = "{" + string.Join(",", pairs) + "}";
                return Encoding.UTF8.GetBytes(random.Next(3) == 0 ? $"{{\"{Pick(random, ["resource", "scenario", "customer", "entry", "condition"])}\":{inner},\"{Pick(random, Fields)}\":{Value(random)}}}" : random.Next(4) == 0 ? $"{{\"batch\":[{inner},{inner}]}}" : inner);
        }
    }

    /// <summary>Whether an answer acknowledges something as accepted, and how many events it names as accepted.</summary>
    private static (bool Any, int Events)? Accepted(string answer)
    {
        try
        {
            using var json = JsonDocument.Parse(answer);
            var root = json.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var status) || status.ValueKind != JsonValueKind.String)
            {
                return null;
            }

            var events = root.TryGetProperty("results", out var results) && results.ValueKind == JsonValueKind.Array
                ? results.EnumerateArray().Count(r => r.TryGetProperty("status", out var s) && s.GetString() == "accepted")
                : status.GetString() == "accepted" && root.TryGetProperty("eventId", out _) ? 1 : 0;
            return (events > 0 || status.GetString() == "accepted", events);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string SignBytes(byte[] body, string secret) => WebhookSignature.Compute(body, Encoding.UTF8.GetBytes(secret));

    private static string Value(Random random) => Pick(random, HostileValues);

    private static T Pick<T>(Random random, IReadOnlyList<T> items) => items[random.Next(items.Count)];

    private static string Truncate(string text) => text.Length > 200 ? text[..200] + "…" : text;

    [System.Text.RegularExpressions.GeneratedRegex(@"\{[^}]+\}")]
    private static partial System.Text.RegularExpressions.Regex RouteValues();

    /// <summary>Rows of every table a request could write to (the clock anchor's settings and the rate limiter's slots aside).</summary>
    private async Task<Dictionary<string, int>> CountRowsAsync()
    {
        var names = _app.Names;
        var counts = new Dictionary<string, int>();
        foreach (var table in names.AllTables.Except([names.Settings, names.RateLimits]))
        {
            try
            {
                counts[table] = await TestStorage.Clients().Tables.GetTableClient(table).QueryAsync<TableEntity>(select: ["PartitionKey"]).CountAsync();
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                counts[table] = 0;
            }
        }

        return counts;
    }
}
