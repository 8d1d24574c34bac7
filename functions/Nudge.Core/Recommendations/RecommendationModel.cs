using Nudge.Core.Events;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Recommendations;

/// <summary>Where each shop's relations snapshot is kept (<see cref="ItemGraph.WriteTo"/>'s bytes), so a restarted app need not relearn.</summary>
public interface IRelationsSnapshotStore
{
    /// <summary>Replaces the shop's snapshot.</summary>
    Task SaveAsync(string shopDomain, ItemGraph graph, CancellationToken cancellationToken);

    /// <summary>The shop's snapshot, or null when none was saved.</summary>
    Task<ItemGraph?> LoadAsync(string shopDomain, CancellationToken cancellationToken);

    /// <summary>Deletes the shop's snapshot (a shop's erasure); nothing if there is none.</summary>
    Task DeleteAsync(string shopDomain, CancellationToken cancellationToken);
}

/// <summary>What product interactions events carry: a view, a cart or checkout's lines, an order's lines.</summary>
public static class ProductInteractions
{
    /// <summary>The event types that teach the relations (what the rebuild reads from the events).</summary>
    public static IReadOnlyList<string> Types { get; } =
        [EventTypes.ProductViewed, EventTypes.CartUpdated, EventTypes.CheckoutStarted, EventTypes.CheckoutUpdated, EventTypes.OrderPlaced, EventTypes.OrderPaid];

    public static IEnumerable<Interaction> Of(CustomerEvent evt)
    {
        InteractionKind? kind = evt.Type switch
        {
            EventTypes.ProductViewed => InteractionKind.Viewed,
            _ when EventTypes.IsCart(evt.Type) => InteractionKind.Carted,
            _ when EventTypes.IsOrder(evt.Type) => InteractionKind.Ordered,
            _ => null,
        };
        if (kind is not { } k)
        {
            return [];
        }

        var customer = TrailOf(evt.Customer);
        return (evt.Items ?? []).Select(i => i.ProductId).Distinct(StringComparer.Ordinal).Select(p => new Interaction(customer, p, k, evt.OccurredAt));
    }

    /// <summary>A customer's trail in a graph: the customer key, not the id alone, since one shop's events API may name customers of several platforms.</summary>
    public static string TrailOf(Customers.CustomerKey customer) => customer.ToString();

    /// <summary>A shop's graph key: shops spell their domains in any case.</summary>
    public static string ShopOf(string shopDomain) => shopDomain.ToLowerInvariant();
}

/// <summary>
/// Every shop's item graph, live in this process: loaded from its snapshot when first asked for (and again once it is
/// older than <see cref="ReloadAfter"/>, so an instance that does not run the rebuild takes the one another saved),
/// taught by each event as it arrives, replaced by a rebuild from the stored events (which the timer then saves as the
/// snapshot). Each graph is guarded by its own lock: learning is a few dictionary updates, reads are short.
/// </summary>
/// <param name="clock">Real time (the reload is about other instances' rebuilds, not virtual journeys).</param>
public sealed class RecommendationModel(IRelationsSnapshotStore snapshots, TimeProvider clock)
{
    /// <summary>The rebuild's interval: a graph older than this is loaded again from the snapshot.</summary>
    public static readonly TimeSpan ReloadAfter = TimeSpan.FromMinutes(30);

    private readonly Dictionary<string, (Task<ItemGraph> Graph, DateTimeOffset LoadedAt)> _graphs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Teaches the event's interactions to its shop's graph (a repeated event adds nothing: its products are already in the trail).</summary>
    public async Task LearnAsync(CustomerEvent evt, CancellationToken cancellationToken)
    {
        var interactions = ProductInteractions.Of(evt).ToList();
        if (interactions.Count == 0 || evt.ShopDomain is not { } shop)
        {
            return;
        }

        var graph = await GraphAsync(shop, cancellationToken);
        lock (graph)
        {
            foreach (var interaction in interactions)
            {
                graph.Add(interaction);
            }
        }
    }

    /// <summary>Runs <paramref name="read"/> over the shop's graph under its lock.</summary>
    public async Task<T> ReadAsync<T>(string shopDomain, Func<ItemGraph, T> read, CancellationToken cancellationToken)
    {
        var graph = await GraphAsync(shopDomain, cancellationToken);
        lock (graph)
        {
            return read(graph);
        }
    }

    /// <summary>
    /// Drops an erased customer's trail from the graphs held here; the saved snapshots lose it at the next rebuild,
    /// which reads the events the erasure deleted.
    /// </summary>
    public async Task ForgetCustomerAsync(Customers.CustomerKey customer)
    {
        List<Task<ItemGraph>> held;
        lock (_gate)
        {
            held = _graphs.Values.Select(g => g.Graph).Where(g => g.IsCompletedSuccessfully).ToList();
        }

        foreach (var graph in await Task.WhenAll(held))
        {
            lock (graph)
            {
                graph.ForgetCustomer(ProductInteractions.TrailOf(customer));
            }
        }
    }

    /// <summary>Forgets a shop (its erasure): its snapshot is deleted and its graph starts empty.</summary>
    public async Task ForgetShopAsync(string shopDomain, CancellationToken cancellationToken)
    {
        var shop = ProductInteractions.ShopOf(shopDomain);
        await snapshots.DeleteAsync(shop, cancellationToken);
        lock (_gate)
        {
            _graphs[shop] = (Task.FromResult(new ItemGraph()), clock.GetUtcNow());
        }
    }

    /// <summary>
    /// Relearns every shop from its stored interaction events (oldest first), saves each graph as the shop's snapshot
    /// and serves it from now on. Events that arrive while it reads are in the next rebuild. Returns the shops rebuilt.
    /// </summary>
    public async Task<int> RebuildAsync(IEventStore events, CancellationToken cancellationToken)
    {
        var byShop = new Dictionary<string, List<Interaction>>(StringComparer.Ordinal);
        await foreach (var evt in events.ListOfTypesAsync(ProductInteractions.Types, cancellationToken))
        {
            if (evt.ShopDomain is { } shop)
            {
                var key = ProductInteractions.ShopOf(shop);
                if (!byShop.TryGetValue(key, out var list))
                {
                    byShop[key] = list = [];
                }

                list.AddRange(ProductInteractions.Of(evt));
            }
        }

        foreach (var (shop, interactions) in byShop)
        {
            var graph = new ItemGraph();
            foreach (var interaction in interactions.OrderBy(i => i.At).ThenBy(i => i.CustomerId, StringComparer.Ordinal).ThenBy(i => i.ProductId, StringComparer.Ordinal))
            {
                graph.Add(interaction);
            }

            await snapshots.SaveAsync(shop, graph, cancellationToken);
            lock (_gate)
            {
                _graphs[shop] = (Task.FromResult(graph), clock.GetUtcNow());
            }
        }

        return byShop.Count;
    }

    private Task<ItemGraph> GraphAsync(string shopDomain, CancellationToken cancellationToken)
    {
        var shop = ProductInteractions.ShopOf(shopDomain);
        var now = clock.GetUtcNow();
        lock (_gate)
        {
            if (!_graphs.TryGetValue(shop, out var held) || held.Graph.IsFaulted || held.Graph.IsCanceled || now - held.LoadedAt > ReloadAfter)
            {
                var previous = held.Graph;
                _graphs[shop] = held = (LoadAsync(shop, previous, cancellationToken), now);
            }

            return held.Graph;
        }
    }

    /// <summary>
    /// The shop's snapshot; without a readable one, the graph held so far (or an empty one): an unreadable snapshot
    /// must not stop the events that teach the graph, and the next rebuild replaces it.
    /// </summary>
    private async Task<ItemGraph> LoadAsync(string shop, Task<ItemGraph>? previous, CancellationToken cancellationToken)
    {
        ItemGraph? loaded;
        try
        {
            loaded = await snapshots.LoadAsync(shop, cancellationToken);
        }
        catch (InvalidDataException)
        {
            loaded = null;
        }

        return loaded ?? (previous is { IsCompletedSuccessfully: true } ? await previous : new ItemGraph());
    }
}
