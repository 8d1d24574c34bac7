using System.Collections.Concurrent;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>What one delivery costs in storage round trips on Azurite, and the suppression list's shortcut while a medium has none.</summary>
public class DeliveryRoundTripTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    /// <summary>Every storage request the clients make: method, path, the If-Match it carried and the ETag it got.</summary>
    private sealed class RequestLog
    {
        private readonly ConcurrentQueue<(string Method, string Path, string? IfMatch, string? ETag)> _requests = new();

        public RequestLog() => Observer = new StorageObserver((message, _) =>
        {
            message.Request.Headers.TryGetValue("If-Match", out var ifMatch);
            message.Response.Headers.TryGetValue("ETag", out var etag);
            _requests.Enqueue((message.Request.Method.ToString(), Uri.UnescapeDataString(message.Request.Uri.Path), ifMatch, etag));
        });

        public StorageObserver Observer { get; }

        public IReadOnlyList<(string Method, string Path, string? IfMatch, string? ETag)> Requests => _requests.ToList();

        public void Clear() => _requests.Clear();

        /// <summary>Requests to <paramref name="table"/>: point reads and writes name a row, queries end in "()".</summary>
        public int Count(string method, string table, bool pointRequest) =>
            Requests.Count(r => r.Method == method && r.Path.Contains($"/{table}(", StringComparison.Ordinal) && r.Path.EndsWith("()", StringComparison.Ordinal) != pointRequest);
    }

    [Fact]
    public async Task Handle_OneSend_ClaimsByInsertWithoutAReadAndRecordsWithTheClaimsETag()
    {
        var log = new RequestLog();
        var p = await Pipeline.CreateAsync(observer: log.Observer);
        var profile = await p.ProfileUpdater.ApplyAsync(Pipeline.Signup("7001"), CancellationToken.None);
        await p.Starter.StartAsync(p.Runtime, JourneyCatalog.Welcome, Customer, p.Context(profile), null, CancellationToken.None);
        var message = Assert.Single(await p.QueuedDeliveriesAsync(ChannelNames.Email)); // carries its order
        var handler = new DeliveryHandler(p.Deliveries, p.Profiles, p.Sender, p.Queue, p.Settings, p.Clock, new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock), capLedger: p.CapLedger);
        log.Clear();

        var outcome = await handler.HandleAsync(message, CancellationToken.None);

        Assert.Equal(DeliveryHandling.Sent, outcome);
        Assert.Equal(1, p.Sender.Calls);
        var claim = Assert.Single(log.Requests, r => r.Method == "POST" && r.Path.EndsWith($"/{p.Names.Deliveries}", StringComparison.Ordinal));
        var record = Assert.Single(log.Requests, r => r.Method == "PUT" && r.Path.Contains($"/{p.Names.Deliveries}(", StringComparison.Ordinal));
        Assert.Equal(0, log.Count("GET", p.Names.Deliveries, pointRequest: true)); // no read before the claim
        Assert.Equal(1, log.Count("GET", p.Names.Profiles, pointRequest: true));
        Assert.Equal(0, log.Count("GET", p.Names.Suppressions, pointRequest: true)); // no suppressions at all: no address lookup
        Assert.Equal(claim.ETag, record.IfMatch); // the record is conditional on the claim's own write, not on a re-read
    }

    [Fact]
    public async Task Find_ManyLookupsAtOnceWhileTheMediumIsEmpty_ShareOneQueryAndReadNoRows()
    {
        var log = new RequestLog();
        var p = await Pipeline.CreateAsync(observer: log.Observer);
        var suppressions = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);

        var found = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => suppressions.FindAsync(SuppressionMedia.Phone, $"+8210000000{i:D2}", CancellationToken.None)));

        Assert.All(found, Assert.Null);
        Assert.Equal(0, log.Count("GET", p.Names.Suppressions, pointRequest: true));
        Assert.Equal(1, log.Count("GET", p.Names.Suppressions, pointRequest: false));
    }

    [Fact]
    public async Task Find_RightAfterAnotherListInThisProcessAddedTheFirstSuppression_FindsIt()
    {
        var p = await Pipeline.CreateAsync();
        var worker = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);
        var optOut = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);
        Assert.Null(await worker.FindAsync(SuppressionMedia.Phone, "01099998888", CancellationToken.None)); // the medium is known empty now

        await optOut.AddAsync(SuppressionMedia.Phone, "010-1234-5678", "opted out by 080", CancellationToken.None);

        Assert.Equal("opted out by 080", await worker.FindAsync(SuppressionMedia.Phone, "01012345678", CancellationToken.None));
        Assert.Null(await worker.FindAsync(SuppressionMedia.Email, "a@example.com", CancellationToken.None)); // another medium stays empty
    }

    [Fact]
    public async Task Find_WhileTheMediumHasSuppressions_ReadsTheAddressRow()
    {
        var log = new RequestLog();
        var p = await Pipeline.CreateAsync(observer: log.Observer);
        var suppressions = new TableSuppressionList(p.Clients.Tables, p.Names, p.Clock);
        await suppressions.AddAsync(SuppressionMedia.Email, "gone@example.com", "hard bounce", CancellationToken.None);
        log.Clear();

        var other = await suppressions.FindAsync(SuppressionMedia.Email, "still-here@example.com", CancellationToken.None);
        var gone = await suppressions.FindAsync(SuppressionMedia.Email, " Gone@Example.com", CancellationToken.None);

        Assert.Equal((null, "hard bounce"), (other, gone));
        Assert.Equal(2, log.Count("GET", p.Names.Suppressions, pointRequest: true));
    }
}
