using Nudge.App.Journeys;
using Nudge.App.Hosting;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Data.Tables;
using Microsoft.Extensions.DependencyInjection;
using Nudge.Core.Customers;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;
using static Nudge.App.Tests.IngestSourcesTests;

namespace Nudge.App.Tests;

/// <summary>Shopify's mandatory privacy topics: a redact erases everything of one customer (or one shop) and nothing of anyone else.</summary>
public class PrivacyErasureTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    /// <summary>
    /// An email cap and a limit on marketing journeys, so the welcome coupon takes a frequency-cap slot and the welcome
    /// journey an admission (records naming the customer) for the erasure to remove.
    /// </summary>
    public async Task InitializeAsync() =>
        _app = await NudgeTestApp.StartAsync(settings: new Dictionary<string, string?>(Shops)
        {
            ["Nudge:Rules:Caps:email:PerDay"] = "3", ["Nudge:Rules:MaxConcurrentMarketingJourneys"] = "3",
        });

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static TableClient Table(string name) => TestStorage.Clients().Tables.GetTableClient(name);

    /// <summary>Rows and blobs that hold anything of the customer, across every store (small raw bodies live in the event rows).</summary>
    private async Task<(int Profiles, int Events, int Instances, int Deliveries, int Raw)> FootprintAsync(string shop, long id)
    {
        var key = TableKey.For(new CustomerKey("shopify", id.ToString()));
        async Task<int> Rows(string table) => await Table(table).QueryAsync<TableEntity>(e => e.PartitionKey == key).CountAsync();
        var raw = await TestStorage.Clients().Blobs.GetBlobContainerClient(_app.Names.RawPayloads).GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = $"shopify/{shop}/{id}/" }).CountAsync();
        return (await Rows(_app.Names.Profiles), await Rows(_app.Names.Events), await Rows(_app.Names.Instances), await Rows(_app.Names.Deliveries), raw);
    }

    private async Task SignUpAsync(string shop, string secret, long id)
    {
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Shopify(shop, secret, "customers/create", NudgeTestApp.Customer(id)))).StatusCode);
        await _app.WaitForDeliveriesAsync(id.ToString(), rows => rows.Count == 1 && rows[0].Status == "sent", $"welcome coupon for {id}");
    }

    /// <summary>
    /// The customer's consent history, what was recorded after their deliveries (reports, opens, clicks), their
    /// frequency-cap slots and their marketing journey admissions.
    /// </summary>
    private async Task<(int Consents, int DeliveryEvents, int CapSlots, int Admissions)> ChannelTraceAsync(long id)
    {
        var key = TableKey.For(new CustomerKey("shopify", id.ToString()));
        return (await Table(_app.Names.Consents).QueryAsync<TableEntity>(e => e.PartitionKey == key).CountAsync(),
            await Table(_app.Names.DeliveryEvents).QueryAsync<TableEntity>(e => e.GetString("CustomerId") == id.ToString()).CountAsync(),
            await Table(_app.Names.FrequencyCaps).QueryAsync<TableEntity>(e => e.PartitionKey == key).CountAsync(),
            await Table(_app.Names.MarketingAdmissions).QueryAsync<TableEntity>(e => e.PartitionKey == key).CountAsync());
    }

    /// <summary>A consent withdrawal (one consent-ledger entry) and a provider report on the welcome coupon (whose cap slot and admission are already there).</summary>
    private async Task LeaveChannelTraceAsync(long id)
    {
        var update = NudgeTestApp.Customer(id, createdAt: "2026-11-24T11:00:00+09:00", sms: "unsubscribed");
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/update", update))).StatusCode);
        var customer = new CustomerKey("shopify", id.ToString());
        var coupon = Assert.Single(await _app.DeliveriesAsync(id.ToString()));
        await new TableDeliveryEvents(TestStorage.Clients().Tables, _app.Names, TimeProvider.System).RecordAsync(customer, coupon.DeliveryId, "opened", null, CancellationToken.None);
        await TestStorage.EventuallyAsync(() => ChannelTraceAsync(id), t => t == (1, 1, 1, 1), TimeSpan.FromSeconds(20), $"consent withdrawal, delivery report, cap slot and admission of {id}");
    }

    /// <summary>Order-index and product-interest rows that name the customer.</summary>
    private async Task<int> IndexRowsAsync(string customerId) =>
        await Table(_app.Names.OrderIndex).QueryAsync<TableEntity>(e => e.GetString("CustomerId") == customerId).CountAsync()
        + await Table(_app.Names.ProductInterest).QueryAsync<TableEntity>(e => e.GetString("CustomerId") == customerId).CountAsync();

    private Task<(int, int, int, int, int)> WaitErasedAsync(string shop, long id) =>
        TestStorage.EventuallyAsync(() => FootprintAsync(shop, id), f => f == (0, 0, 0, 0, 0), TimeSpan.FromSeconds(20), $"erasure of {id}");

    private static string Redact(string shop, long id) =>
        $$"""{"shop_id":1,"shop_domain":"{{shop}}","customer":{"id":{{id}},"email":"c{{id}}@example.com","phone":"+8210{{id:D8}}"},"orders_to_redact":[]}""";

    [Fact]
    public async Task CustomersRedact_QueuesASweepThatErasesWhatCameBackAfterwards()
    {
        await SignUpAsync(ShopA, SecretA, 3201);
        await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/redact", Redact(ShopA, 3201), id: "redact-delivery-sweep"));
        await WaitErasedAsync(ShopA, 3201);
        var privacyQueue = TestStorage.Clients().Queues.GetQueueClient(_app.Names.Queue("privacy-requests"));
        var sweepQueued = await TestStorage.EventuallyAsync(async () => (await privacyQueue.GetPropertiesAsync()).Value.ApproximateMessagesCount,
            n => n == 1, TimeSpan.FromSeconds(10), "the follow-up sweep to wait in its queue");
        // An event acknowledged before the redact but stored after it (an intake batch the drain wait did not see).
        var late = new Core.Events.CustomerEvent
        {
            EventId = "shopify-late-1", Customer = new CustomerKey("shopify", "3201"), Type = Core.Events.EventTypes.PageViewed, OccurredAt = DateTimeOffset.UtcNow,
        };
        await new TableEventStore(TestStorage.Clients().Tables, _app.Names, TimeProvider.System).TryAddAsync(late, CancellationToken.None);

        var request = new Core.Ingest.PrivacyRequest(Core.Ingest.PrivacyRequestKind.RedactCustomer, "shopify", ShopA, "3201", "shopify-redact-delivery-sweep", Pass: 2);
        await _app.Services.GetRequiredService<PrivacyHandler>().HandleAsync(request, new DurableJourneyRuntime(_app.Services.GetRequiredService<LocalTaskHub>().Client), CancellationToken.None);

        Assert.Equal(1, sweepQueued);
        Assert.Equal((0, 0, 0, 0, 0), await FootprintAsync(ShopA, 3201));
    }

    [Fact]
    public async Task CustomersRedact_ErasesThatCustomerEverywhere_KeepsOthers_AndAuditsWithoutPersonalData()
    {
        await SignUpAsync(ShopA, SecretA, 3101);
        await SignUpAsync(ShopA, SecretA, 3102);
        Assert.Equal((1, 1, 1, 1, 0), await FootprintAsync(ShopA, 3101));
        foreach (var id in new[] { 3101L, 3102L }) // an order (order index) and a carted product (product interest) each
        {
            var checkout = $$"""{"id":{{id}}7,"created_at":"2026-11-24T01:00:00Z","customer":{"id":{{id}}},"line_items":[{"product_id":5,"quantity":1}]}""";
            Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Shopify(ShopA, SecretA, "checkouts/create", checkout))).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Shopify(ShopA, SecretA, "orders/create", NudgeTestApp.Order(id * 10, id)))).StatusCode);
        }

        Assert.Equal((2, 2), (await IndexRowsAsync("3101"), await IndexRowsAsync("3102")));
        await LeaveChannelTraceAsync(3101);
        await LeaveChannelTraceAsync(3102);

        var response = await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/redact", Redact(ShopA, 3101), id: "redact-delivery-a"));
        Assert.Equal("accepted", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        await WaitErasedAsync(ShopA, 3101);

        Assert.Equal((0, 2), (await IndexRowsAsync("3101"), await IndexRowsAsync("3102")));
        Assert.Equal(((0, 0, 0, 0), (1, 1, 1, 1)), (await ChannelTraceAsync(3101), await ChannelTraceAsync(3102)));
        Assert.Equal((1, 4, 1, 1, 0), await FootprintAsync(ShopA, 3102));
        var audit = await TestStorage.EventuallyAsync(() => Table(_app.Names.PrivacyAudit).QueryAsync<TableEntity>().ToListAsync().AsTask(),
            rows => rows.Count == 1 && rows[0].GetString("Status") == "completed", TimeSpan.FromSeconds(10), "audit record");
        // What the audit wrote, not the storage's own ETag and Timestamp (their digits can contain any id by chance).
        var written = string.Join("|", audit[0].Where(kv => kv.Key is not ("odata.etag" or "Timestamp")).Select(kv => $"{kv.Key}={kv.Value}"));
        Assert.DoesNotContain("3101", written);
        Assert.DoesNotContain("@example.com", written);
        Assert.Contains("\"events\":4", written);

        var again = await _app.Client.SendAsync(Shopify(ShopA, SecretA, "customers/redact", Redact(ShopA, 3101), id: "redact-delivery-a"));
        Assert.Equal("duplicate", (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
    }

    [Fact]
    public async Task ShopRedact_ErasesEveryCustomerOfThatShopOnly_DataRequestErasesNothing()
    {
        await SignUpAsync(ShopA, SecretA, 3111);
        await SignUpAsync(ShopB, SecretB, 3211);

        var dataRequest = await _app.Client.SendAsync(Shopify(ShopB, SecretB, "customers/data_request", Redact(ShopB, 3211)));
        Assert.Equal(HttpStatusCode.OK, dataRequest.StatusCode);
        var shopRedact = await _app.Client.SendAsync(Shopify(ShopA, SecretA, "shop/redact", $$"""{"shop_id":1,"shop_domain":"{{ShopA}}"}"""));
        Assert.Equal(HttpStatusCode.OK, shopRedact.StatusCode);

        await WaitErasedAsync(ShopA, 3111);
        await TestStorage.EventuallyAsync(() => Table(_app.Names.PrivacyAudit).QueryAsync<TableEntity>(e => e.GetString("Status") == "completed").CountAsync().AsTask(),
            n => n == 2, TimeSpan.FromSeconds(10), "both requests completed");
        Assert.Equal((1, 1, 1, 1, 0), await FootprintAsync(ShopB, 3211));
    }
}
