using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

/// <summary>The erasure side of the Table and Blob adapters, on Azurite.</summary>
public class ErasureStoreTests
{
    [Fact]
    public async Task DeleteForCustomer_ManyEventsAndLargeRawBodies_ErasesAllOfThemAndNothingElse()
    {
        var p = await Pipeline.CreateAsync();
        var raw = new BlobRawPayloadStore(p.Clients.Blobs, p.Names);
        var ingest = new IngestHandler(p.Events, raw, p.Queue, new TableOrderIndex(p.Clients.Tables, p.Names), new TableProductInterestIndex(p.Clients.Tables, p.Names));
        for (var i = 0; i < 130; i++) // more than one 100-entity transaction
        {
            await ingest.AcceptAsync(Pipeline.Signup("7001") with { EventId = $"shopify-e{i}" }, $"e{i}", "{}"u8.ToArray(), CancellationToken.None);
        }

        await ingest.AcceptAsync(Pipeline.Signup("7001") with { EventId = "shopify-big" }, "big", new byte[IEventStore.InlineRawBodyLimit + 1], CancellationToken.None);
        await ingest.AcceptAsync(Pipeline.Signup("7002"), "other", new byte[IEventStore.InlineRawBodyLimit + 1], CancellationToken.None);

        var erased = await p.Events.DeleteForCustomerAsync(new CustomerKey("shopify", "7001"), CancellationToken.None);
        var blobs = await raw.DeleteAsync("shopify", "demo.myshopify.com", "7001", CancellationToken.None);

        Assert.Equal((131, 1), (erased, blobs));
        Assert.NotNull(await p.Events.GetAsync(new CustomerKey("shopify", "7002"), Pipeline.Signup("7002").EventId, CancellationToken.None));
        Assert.Equal(1, await raw.DeleteAsync("shopify", "demo.myshopify.com", null, CancellationToken.None)); // the other customer's blob was still there
    }

    [Fact]
    public async Task ProfilesInstancesAndDeliveries_DeleteForCustomer_LeavesOtherCustomers()
    {
        var p = await Pipeline.CreateAsync();
        foreach (var id in new[] { "7001", "7002" })
        {
            var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup(id), CancellationToken.None);
            await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, new CustomerKey("shopify", id), p.Context(profile), null, CancellationToken.None);
        }

        await p.DrainDeliveriesAsync(ChannelNames.Email); // the workers write the delivery rows

        var gone = new CustomerKey("shopify", "7001");
        var kept = new CustomerKey("shopify", "7002");
        var shopCustomers = await p.Profiles.ListCustomersOfShopAsync("shopify", "demo.myshopify.com", CancellationToken.None).ToListAsync();

        Assert.True(await p.Profiles.DeleteAsync(gone, CancellationToken.None));
        Assert.Equal(1, await p.Instances.DeleteForCustomerAsync(gone, CancellationToken.None));
        Assert.Equal(1, await p.Deliveries.DeleteForCustomerAsync(gone, CancellationToken.None));

        Assert.Equal(["7001", "7002"], shopCustomers.Select(c => c.CustomerId).Order());
        Assert.Null(await p.Profiles.GetAsync(gone, CancellationToken.None));
        Assert.Empty(await p.Deliveries.ListForCustomerAsync(gone, CancellationToken.None));
        Assert.NotNull(await p.Profiles.GetAsync(kept, CancellationToken.None));
        Assert.Single(await p.Deliveries.ListForCustomerAsync(kept, CancellationToken.None));
    }
}
