using Nudge.Core.Events;
using Nudge.Core.Ingest;

namespace Nudge.Core.Pipeline;

/// <summary>Reads a platform's Admin API: the records of one resource updated in a time window, each as raw JSON.</summary>
public interface IShopAdminApi
{
    /// <summary>The platform whose shops this client reads (<c>shopify</c>, <c>woocommerce</c>, <c>cafe24</c>).</summary>
    string Platform { get; }

    /// <summary>
    /// The shortest window the reconciler splits further when this client reports <see cref="AdminWindowTooLargeException"/>:
    /// the finest time its API's search takes.
    /// </summary>
    TimeSpan SmallestWindow { get; }

    /// <summary>
    /// <paramref name="resource"/> is <c>customers</c> or <c>orders</c>; records come in the platform's webhook shape.
    /// Throws <see cref="AdminWindowTooLargeException"/> when the window holds more than one read takes (after what it
    /// read, or before anything if the client can tell at once).
    /// </summary>
    IAsyncEnumerable<ReadOnlyMemory<byte>> ListUpdatedAsync(ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken);
}

/// <summary>Where each shop's reconciliation got to, so the next run starts there.</summary>
public interface IReconcileCursorStore
{
    Task<DateTimeOffset?> GetAsync(ShopAccount shop, CancellationToken cancellationToken);

    Task SetAsync(ShopAccount shop, DateTimeOffset reachedUntil, CancellationToken cancellationToken);
}

/// <param name="Truncated">Windows that held more records than a client reads even after splitting: read in part.</param>
/// <param name="Failed">Shops whose Admin API could not be read this run (their cursors stay; the next run retries).</param>
public sealed record ReconcileReport(int Shops, int Read, int Filled, int Truncated = 0, IReadOnlyList<ReconcileFailure>? Failed = null);

/// <summary>A shop the run could not read, and why in a word (an HTTP status or an error type: no URL, no credential).</summary>
public sealed record ReconcileFailure(string Platform, string Shop, string Reason);

/// <summary>
/// A client read its bound of pages and more remain: the window holds too many records for one read. The reconciler
/// reads it again in halves (the records already read fill nothing twice).
/// </summary>
public sealed class AdminWindowTooLargeException(string message) : Exception(message);

/// <summary>
/// How one platform's Admin API records map to events: through its webhook parser, as these topics; a record's id is
/// its <paramref name="CustomerIdField"/> (customers) or <paramref name="OrderIdField"/> (orders).
/// </summary>
public sealed record ReconcileMapping(string SignupTopic, string UpdateTopic, string OrderTopic, Func<string, string, string, ReadOnlyMemory<byte>, IngestParse> Parse,
    string CustomerIdField = "id", string OrderIdField = "id")
{
    public static IReadOnlyDictionary<string, ReconcileMapping> All { get; } = new Dictionary<string, ReconcileMapping>
    {
        [ShopifyWebhook.Platform] = new(ShopifyWebhook.Topics.CustomersCreate, ShopifyWebhook.Topics.CustomersUpdate, ShopifyWebhook.Topics.OrdersCreate,
            (topic, shop, id, body) => ShopifyWebhook.Parse(topic, shop, id, body.Span)),
        [WooCommerceWebhook.Platform] = new(WooCommerceWebhook.Topics.CustomerCreated, WooCommerceWebhook.Topics.CustomerUpdated, WooCommerceWebhook.Topics.OrderCreated,
            (topic, shop, id, body) => WooCommerceWebhook.Parse(topic, shop, id, body.Span)),

        // Cafe24 webhooks name their event by number (configuration), so its "topics" are the internal types and a
        // record is the webhook's bare resource: a member or an order.
        [Cafe24Webhook.Platform] = new(EventTypes.CustomerSignedUp, EventTypes.CustomerUpdated, EventTypes.OrderPlaced,
            (type, mall, id, resource) => Cafe24Webhook.ParseResource(type, mall, id, resource.Span), "member_id", "order_id"),
    };
}

/// <summary>
/// Fills the gaps lost webhooks leave: reads the customers and orders a shop's Admin API reports as updated since the
/// last run, and ingests any signup, order or contact change the event store does not hold yet. Records younger than
/// <see cref="Lag"/> are left to their webhooks; ids are deterministic per record, so runs never add a gap twice.
/// </summary>
public sealed class ReconcileHandler(ShopRegistry shops, IEnumerable<IShopAdminApi> adminApis, IReconcileCursorStore cursors, IEventStore events, IProfileStore profiles, IngestHandler ingest, TimeProvider clock)
{
    public static readonly TimeSpan Lag = TimeSpan.FromMinutes(10);

    /// <summary>How far back the first run of a shop looks.</summary>
    public static readonly TimeSpan FirstLookBack = TimeSpan.FromDays(3);

    public async Task<ReconcileReport> RunAsync(CancellationToken cancellationToken)
    {
        int polled = 0, read = 0, filled = 0, truncated = 0;
        var failed = new List<ReconcileFailure>();
        var apis = adminApis.ToDictionary(a => a.Platform);
        foreach (var shop in shops.All.Where(s => s.CanReconcile && apis.ContainsKey(s.Platform) && ReconcileMapping.All.ContainsKey(s.Platform)))
        {
            var admin = apis[shop.Platform];
            var map = ReconcileMapping.All[shop.Platform];
            var to = clock.GetUtcNow() - Lag;
            var from = await cursors.GetAsync(shop, cancellationToken) ?? to - FirstLookBack;
            if (from >= to)
            {
                continue;
            }

            try
            {
                var (customersRead, customersFilled) = await ReadWindowAsync(admin, shop, "customers", from, to,
                    record => FillCustomerAsync(shop, map, record, from, cancellationToken), cancellationToken);
                var (ordersRead, ordersFilled) = await ReadWindowAsync(admin, shop, "orders", from, to,
                    record => FillAsync(shop, map, map.OrderTopic, $"order:{IdOf(record, map.OrderIdField)}", record, from, cancellationToken), cancellationToken);
                read += customersRead.Count + ordersRead.Count;
                filled += customersFilled + ordersFilled;
                truncated += customersRead.Truncated + ordersRead.Truncated;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One shop's revoked token or outage must not keep the others from being reconciled.
                failed.Add(new ReconcileFailure(shop.Platform, shop.Domain, e is HttpRequestException { StatusCode: { } status } ? $"HTTP {(int)status}" : e.GetType().Name));
                continue;
            }

            await cursors.SetAsync(shop, to, cancellationToken);
            polled++;
        }

        return new ReconcileReport(polled, read, filled, truncated, failed);
    }

    private sealed record WindowRead(int Count, int Truncated);

    /// <summary>
    /// Reads one resource's window, filling each record; a window too large for the client is read again in halves,
    /// so the cursor only moves past what was read whole (down to the client's <see cref="IShopAdminApi.SmallestWindow"/>,
    /// then counted truncated).
    /// </summary>
    private static async Task<(WindowRead Read, int Filled)> ReadWindowAsync(
        IShopAdminApi admin, ShopAccount shop, string resource, DateTimeOffset from, DateTimeOffset to, Func<ReadOnlyMemory<byte>, Task<int>> fill, CancellationToken cancellationToken)
    {
        int read = 0, filled = 0;
        try
        {
            await foreach (var record in admin.ListUpdatedAsync(shop, resource, from, to, cancellationToken))
            {
                read++;
                filled += await fill(record);
            }

            return (new WindowRead(read, 0), filled);
        }
        catch (AdminWindowTooLargeException) when (to - from > admin.SmallestWindow)
        {
            var middle = from + ((to - from) / 2);
            var (first, firstFilled) = await ReadWindowAsync(admin, shop, resource, from, middle, fill, cancellationToken);
            var (second, secondFilled) = await ReadWindowAsync(admin, shop, resource, middle, to, fill, cancellationToken);
            return (new WindowRead(read + first.Count + second.Count, first.Truncated + second.Truncated), filled + firstFilled + secondFilled);
        }
        catch (AdminWindowTooLargeException)
        {
            return (new WindowRead(read, 1), filled);
        }
    }

    private async Task<int> FillCustomerAsync(ShopAccount shop, ReconcileMapping map, ReadOnlyMemory<byte> record, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var id = IdOf(record, map.CustomerIdField);
        var filled = await FillAsync(shop, map, map.SignupTopic, $"customer:{id}", record, from, cancellationToken);
        if (filled > 0)
        {
            return filled; // the signup just filled carries the same contact data
        }

        if (map.Parse(map.UpdateTopic, shop.Domain, "probe", record) is not IngestParse.Mapped { Event: var update })
        {
            return filled;
        }

        var profile = (await profiles.GetAsync(update.Customer, cancellationToken))?.Value;
        if (profile?.ContactUpdatedAt is { } known && known >= update.OccurredAt)
        {
            return filled; // the profile already has this version (or a newer one)
        }

        return filled + await FillAsync(shop, map, map.UpdateTopic, $"customer:{id}:{update.OccurredAt.ToUnixTimeSeconds()}", record, DateTimeOffset.MinValue, cancellationToken);
    }

    /// <summary>
    /// Ingests the record as <paramref name="topic"/> unless an event of that type about that subject is already held,
    /// or it happened before <paramref name="from"/> (an old customer updated today did not just sign up).
    /// </summary>
    private async Task<int> FillAsync(ShopAccount shop, ReconcileMapping map, string topic, string key, ReadOnlyMemory<byte> record, DateTimeOffset from, CancellationToken cancellationToken)
    {
        var deliveryId = $"reconcile:{key}";
        if (map.Parse(topic, shop.Domain, deliveryId, record) is not IngestParse.Mapped { Event: var evt } || evt.OccurredAt < from)
        {
            return 0;
        }

        if (topic != map.UpdateTopic && await events.HasSubjectAsync(evt.Customer, evt.Type, evt.SubjectId!, cancellationToken))
        {
            return 0;
        }

        return await ingest.AcceptAsync(evt, deliveryId, record, cancellationToken) == IngestOutcome.Accepted ? 1 : 0;
    }

    private static string IdOf(ReadOnlyMemory<byte> record, string field)
    {
        using var document = JsonFields.ParseObject(record.Span, out _);
        return document is not null && JsonFields.TryGetId(document.RootElement, field, out var id) ? id : "unknown";
    }
}
