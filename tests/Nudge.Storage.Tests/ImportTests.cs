using System.Text;
using Nudge.Core.Customers;
using Nudge.Core.Imports;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>CSV imports on Azurite: rows folded into the profiles webhooks fill, bad rows skipped by line, and an interrupted import resumed.</summary>
public class ImportTests
{
    private const string Shop = "example.myshopify.com";

    private static ImportHandler Handler(Pipeline p, int rowsPerCheckpoint = 500) =>
        new(new TableImportStore(p.Clients.Tables, p.Names), new BlobImportFiles(p.Clients.Blobs, p.Names), p.Queue, new ProfileUpdater(p.Profiles, p.ConsentLedger), p.Settings,
            new ImportSettings(1024 * 1024, rowsPerCheckpoint, TimeSpan.FromHours(1)), p.Clock);

    private static async Task<ImportState> StartAsync(ImportHandler handler, string kind, string csv)
    {
        var accepted = await handler.StartAsync(kind, "shopify", Shop, new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);
        return Assert.IsType<ImportAccepted.Started>(accepted).State;
    }

    private static async Task<ImportState> RunToEndAsync(ImportHandler handler, string importId)
    {
        ImportState? state;
        do
        {
            state = await handler.RunSliceAsync(importId, CancellationToken.None);
        }
        while (state!.Status != ImportStatus.Completed);

        return state;
    }

    private static async Task<CustomerProfile> ProfileAsync(Pipeline p, string id) => (await p.Profiles.GetAsync(new CustomerKey("shopify", id), CancellationToken.None))!.Value;

    [Fact]
    public async Task CustomersThenOrders_FoldIntoProfiles_BadRowsSkippedByLine_NoJourneyStarts()
    {
        var p = await Pipeline.CreateAsync();
        var handler = Handler(p);
        // A customer the webhooks already know, with a contact change newer than the export.
        await p.ProfileUpdater.FoldAsync(new CustomerKey("shopify", "1"), _ => new CustomerProfile
        {
            Key = new CustomerKey("shopify", "1"), ShopDomain = Shop, Email = "webhook@example.com", ContactUpdatedAt = Pipeline.Morning.AddDays(1),
        }, CancellationToken.None);

        var customers = await StartAsync(handler, ImportKinds.Customers, """
            customer_id,email,created_at,sms_marketing_consent,last_login_at,points
            1,old@example.com,2024-01-05T10:00:00+09:00,subscribed,2026-06-01T10:00:00+09:00,12000
            2,two@example.com,not a date,subscribed,,
            3,three@example.com,2025-02-01,unsubscribed,,300
            4,"four@example.com",2025-03-01,maybe,,
            """);
        var customersDone = await RunToEndAsync(handler, customers.Id);
        var orders = await StartAsync(handler, ImportKinds.Orders, """
            order_id,customer_id,created_at,total,currency
            o1,1,2025-05-01T12:00:00+09:00,39000,KRW
            o2,1,2025-09-01T12:00:00+09:00,12000,KRW
            o1,1,2025-05-01T12:00:00+09:00,39000,KRW
            o3,3,2025-02-02,,
            o4,,2025-02-02,,
            """);
        var ordersDone = await RunToEndAsync(handler, orders.Id);

        Assert.Equal((2L, 2L), (customersDone.Applied, customersDone.Skipped));
        Assert.Equal([new ImportRowError(3, "created_at is not an ISO 8601 time"), new ImportRowError(5, "sms_marketing_consent must be subscribed or unsubscribed")], customersDone.Errors);
        Assert.Equal((4L, 1L, 6L), (ordersDone.Applied, ordersDone.Skipped, Assert.Single(ordersDone.Errors).Line));
        var one = await ProfileAsync(p, "1");
        Assert.Equal("webhook@example.com", one.Email); // newest wins: the webhook came after the export
        Assert.Equal((12000L, 2, new DateTimeOffset(2024, 1, 5, 1, 0, 0, TimeSpan.Zero)), (one.PointsBalance!.Value, one.Orders.Count, one.SignedUpAt!.Value.ToUniversalTime()));
        Assert.Equal(new DateTimeOffset(2025, 9, 1, 3, 0, 0, TimeSpan.Zero), one.LastOrderAt);
        var three = await ProfileAsync(p, "3");
        Assert.Equal(("three@example.com", false, 300L, Shop, 1), (three.Email, three.Consent.Sms, three.PointsBalance!.Value, three.ShopDomain, three.Orders.Count));
        Assert.Null(await p.Profiles.GetAsync(new CustomerKey("shopify", "2"), CancellationToken.None)); // a bad row changes nothing
        Assert.Empty(await p.Instances.ListForCustomerAsync(new CustomerKey("shopify", "3"), CancellationToken.None).ToListAsync());
        Assert.Empty(await p.DecidedSendsAsync(new CustomerKey("shopify", "3")));
    }

    [Fact]
    public async Task SameFileAgain_IsTheSameImport_AndAppliesNothingTwice()
    {
        var p = await Pipeline.CreateAsync();
        var handler = Handler(p);
        const string csv = "order_id,customer_id,created_at\no1,7,2025-05-01\n";

        var first = await StartAsync(handler, ImportKinds.Orders, csv);
        await RunToEndAsync(handler, first.Id);
        var again = await handler.StartAsync(ImportKinds.Orders, "shopify", Shop, new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);

        var started = Assert.IsType<ImportAccepted.Started>(again);
        Assert.Equal((first.Id, false, ImportStatus.Completed, 1L), (started.State.Id, started.New, started.State.Status, started.State.Applied));
        Assert.Equal(1, (await ProfileAsync(p, "7")).Orders.Count);
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("customer_id,favourite_colour\n1,red\n", "column 2 ('favourite_colour') is not one of")]
    public async Task BadHeader_IsRefused_AndNothingIsKept(string csv, string problem)
    {
        var p = await Pipeline.CreateAsync();

        var refused = await Handler(p).StartAsync(ImportKinds.Customers, "shopify", Shop, new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);

        Assert.Contains(problem, Assert.IsType<ImportAccepted.BadFile>(refused).Problem);
        Assert.Empty(await p.Clients.Blobs.GetBlobContainerClient(p.Names.ImportFiles).GetBlobsAsync().ToListAsync());
    }

    [Fact]
    public async Task TooLarge_IsRefused()
    {
        var p = await Pipeline.CreateAsync();
        var csv = "customer_id\n" + string.Concat(Enumerable.Range(0, 200_000).Select(i => $"{i}\n"));

        var refused = await Handler(p).StartAsync(ImportKinds.Customers, "shopify", Shop, new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None);

        Assert.IsType<ImportAccepted.TooLarge>(refused);
        Assert.Empty(await p.Clients.Blobs.GetBlobContainerClient(p.Names.ImportFiles).GetBlobsAsync().ToListAsync());
    }

    [Fact]
    public async Task Interrupted_ResumesFromItsCheckpoint_CountsEachRowOnce_AppliesNoOrderTwice()
    {
        // The interruption: cancelled (as a dying process stops) a few profile writes after the first checkpoint.
        using var crash = new CancellationTokenSource();
        var checkpointed = 0;
        var profileCallsAfter = 0;
        var observer = new StorageObserver((message, _) =>
        {
            var path = message.Request.Uri.Path;
            if (path.Contains("imports(PartitionKey", StringComparison.Ordinal) && message.Request.Method == Azure.Core.RequestMethod.Put && message.Response.Status < 300)
            {
                Interlocked.Increment(ref checkpointed);
            }
            else if (path.Contains("profiles", StringComparison.Ordinal) && Volatile.Read(ref checkpointed) > 0 && Interlocked.Increment(ref profileCallsAfter) == 8)
            {
                crash.Cancel();
            }
        });
        var p = await Pipeline.CreateAsync(observer: observer);
        const int customers = 150;
        var rows = Enumerable.Range(0, customers).SelectMany(c => new[] { $"a{c},{c},2025-01-01T00:00:00Z,1000,KRW", $"b{c},{c},2025-02-0{1 + c % 9}T00:00:00Z,2000,KRW" })
            .ToList();
        rows = [.. rows.Where((_, i) => i % 2 == 0), .. rows.Where((_, i) => i % 2 == 1)]; // a customer's orders far apart, as exports list them by date
        var import = await StartAsync(Handler(p, rowsPerCheckpoint: 25), ImportKinds.Orders, "order_id,customer_id,created_at,total,currency\n" + string.Join("\n", rows));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Handler(p, rowsPerCheckpoint: 25).RunSliceAsync(import.Id, crash.Token));
        var interrupted = (await new TableImportStore(p.Clients.Tables, p.Names).GetAsync(import.Id, CancellationToken.None))!.Value;
        var resumed = await RunToEndAsync(Handler(p, rowsPerCheckpoint: 25), import.Id); // a restarted app: new handler, same storage

        Assert.Equal(ImportStatus.Running, interrupted.Status);
        Assert.InRange(interrupted.Applied, 25, 2 * customers - 25);
        Assert.Equal((2L * customers, 0L, 100.0), (resumed.Applied, resumed.Skipped, ProgressAt(resumed).Percent));
        foreach (var c in new[] { 0, 1, 77, customers - 1 })
        {
            var profile = await ProfileAsync(p, c.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(2, profile.Orders.Count);
            Assert.Equal(new DateTimeOffset(2025, 2, 1 + c % 9, 0, 0, 0, TimeSpan.Zero), profile.LastOrderAt);
        }

        static ImportProgress ProgressAt(ImportState state) => ImportProgress.Of(state, state.UpdatedAt!.Value);
    }
}
