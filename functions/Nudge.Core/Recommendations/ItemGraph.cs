namespace Nudge.Core.Recommendations;

public enum InteractionKind
{
    Viewed,
    Carted,
    Ordered,
}

/// <summary>A customer touched a product: viewed it, put it in a cart or checkout, or ordered it.</summary>
public readonly record struct Interaction(string CustomerId, string ProductId, InteractionKind Kind, DateTimeOffset At);

/// <summary>A product related to another, with how strongly (cosine of their customer sets, shrunk when few share them).</summary>
public readonly record struct RelatedProduct(string ProductId, double Score);

/// <summary>
/// Item-to-item relations of one shop, learned from which products the same customers touched: two products are
/// related by how many customers touched both, divided by the geometric mean of how many touched each (so a product
/// everyone touches is not everyone's neighbour), and shrunk toward zero while few customers share them (so one
/// customer's odd pair is no relation). Each customer's trail holds their last <see cref="TrailLength"/> distinct
/// products; a product pairs with the trail when it enters it, so the cost of an event is bounded and the graph is
/// refreshed one event at a time. Pure and deterministic: the same events in the same order make the same graph.
/// Not thread safe: one writer (the caller serialises additions and reads).
/// </summary>
public sealed class ItemGraph(double shrinkage = ItemGraph.Shrinkage, double popularityCorrection = ItemGraph.PopularityCorrection)
{
    /// <summary>Distinct products per customer that pair with the next one.</summary>
    public const int TrailLength = 20;

    /// <summary>Shared customers at which a relation counts half: fewer is likely chance. (The other settings exist for the offline evaluation's comparisons.)</summary>
    public const double Shrinkage = 2.0;

    /// <summary>How far shared customers are divided by the two products' own: 1 is the cosine, 0 raw co-occurrence.</summary>
    public const double PopularityCorrection = 1.0;

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly List<string> _products = [];
    private readonly List<int> _customersPerProduct = [];
    private readonly List<Dictionary<int, int>> _shared = [];
    private readonly Dictionary<string, Trail> _trails = new(StringComparer.Ordinal);

    public int Products => _products.Count;

    public int Customers => _trails.Count;

    /// <summary>Events added so far.</summary>
    public long Interactions { get; private set; }

    public void Add(Interaction interaction)
    {
        Interactions++;
        var product = Intern(interaction.ProductId);
        if (!_trails.TryGetValue(interaction.CustomerId, out var trail))
        {
            _trails[interaction.CustomerId] = trail = new Trail();
        }

        if (!trail.Touch(product))
        {
            return; // already in the trail: its pairs were counted when it entered
        }

        _customersPerProduct[product]++;
        foreach (var other in trail.Others(product))
        {
            Increment(_shared[product], other);
            Increment(_shared[other], product);
        }
    }

    /// <summary>
    /// Drops the customer's trail (an erasure): the counts they contributed stay, as numbers that name no one, and
    /// their next product starts a new trail. False if the graph held none.
    /// </summary>
    public bool ForgetCustomer(string customerId) => _trails.Remove(customerId);

    /// <summary>How many customers touched the product while it was new to their trail; 0 for an unknown product.</summary>
    public int Popularity(string productId) => _ids.TryGetValue(productId, out var id) ? _customersPerProduct[id] : 0;

    /// <summary>The products most related to <paramref name="productId"/>, strongest first (ties by id, so the order is stable).</summary>
    public IReadOnlyList<RelatedProduct> RelatedTo(string productId, int count)
    {
        if (!_ids.TryGetValue(productId, out var id) || count <= 0)
        {
            return [];
        }

        return _shared[id]
            .Select(pair => new RelatedProduct(_products[pair.Key], Score(id, pair.Key, pair.Value)))
            .OrderByDescending(r => r.Score).ThenBy(r => r.ProductId, StringComparer.Ordinal)
            .Take(count)
            .ToList();
    }

    /// <summary>The most touched products, most first: what a shop without relations would show everyone.</summary>
    public IReadOnlyList<string> MostPopular(int count) =>
        Enumerable.Range(0, _products.Count)
            .OrderByDescending(i => _customersPerProduct[i]).ThenBy(i => _products[i], StringComparer.Ordinal)
            .Take(count).Select(i => _products[i]).ToList();

    /// <summary>Snapshot format tag and version: a wire contract (snapshots outlive a deployment); a new shape gets a new version.</summary>
    private const int SnapshotMagic = 0x4E524731; // "NRG1"

    /// <summary>
    /// Writes the whole graph (products, counts, pairs and the customers' trails, so learning goes on where it stopped
    /// after <see cref="ReadFrom"/>) in a compact binary form: ids as strings once, everything else as integers.
    /// </summary>
    public void WriteTo(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(SnapshotMagic);
        writer.Write(shrinkage);
        writer.Write(popularityCorrection);
        writer.Write(Interactions);
        writer.Write(_products.Count);
        for (var i = 0; i < _products.Count; i++)
        {
            writer.Write(_products[i]);
            writer.Write(_customersPerProduct[i]);
            writer.Write(_shared[i].Count);
            foreach (var (other, count) in _shared[i])
            {
                writer.Write(other);
                writer.Write(count);
            }
        }

        writer.Write(_trails.Count);
        foreach (var (customer, trail) in _trails)
        {
            writer.Write(customer);
            trail.WriteTo(writer);
        }
    }

    /// <summary>The graph <see cref="WriteTo"/> wrote; throws <see cref="InvalidDataException"/> on anything else.</summary>
    public static ItemGraph ReadFrom(Stream stream)
    {
        try
        {
            using var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true);
            if (reader.ReadInt32() != SnapshotMagic)
            {
                throw new InvalidDataException("Not an item graph snapshot.");
            }

            var graph = new ItemGraph(reader.ReadDouble(), reader.ReadDouble()) { Interactions = reader.ReadInt64() };
            var products = reader.ReadInt32();
            for (var i = 0; i < products; i++)
            {
                graph.Intern(reader.ReadString());
                graph._customersPerProduct[i] = reader.ReadInt32();
                var pairs = reader.ReadInt32();
                for (var j = 0; j < pairs; j++)
                {
                    var other = reader.ReadInt32();
                    graph._shared[i][other is >= 0 && other < products ? other : throw new InvalidDataException("A pair names an unknown product.")] = reader.ReadInt32();
                }
            }

            var trails = reader.ReadInt32();
            for (var i = 0; i < trails; i++)
            {
                graph._trails[reader.ReadString()] = Trail.ReadFrom(reader, products);
            }

            return graph;
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("A truncated item graph snapshot.", e);
        }
    }

    private double Score(int a, int b, int shared) =>
        shared / Math.Pow((double)_customersPerProduct[a] * _customersPerProduct[b], popularityCorrection / 2) * (shared / (shared + shrinkage));

    private int Intern(string productId)
    {
        if (_ids.TryGetValue(productId, out var id))
        {
            return id;
        }

        id = _products.Count;
        _ids[productId] = id;
        _products.Add(productId);
        _customersPerProduct.Add(0);
        _shared.Add([]);
        return id;
    }

    private static void Increment(Dictionary<int, int> counts, int key) =>
        counts[key] = counts.GetValueOrDefault(key) + 1;

    /// <summary>A customer's last distinct products, newest last (a small ring: no allocation per event).</summary>
    private sealed class Trail
    {
        private readonly int[] _items = new int[TrailLength];
        private int _count;
        private int _next;

        /// <summary>Puts the product in the trail; false if it was there already.</summary>
        public bool Touch(int product)
        {
            for (var i = 0; i < _count; i++)
            {
                if (_items[i] == product)
                {
                    return false;
                }
            }

            _items[_next] = product;
            _next = (_next + 1) % TrailLength;
            _count = Math.Min(_count + 1, TrailLength);
            return true;
        }

        public void WriteTo(BinaryWriter writer)
        {
            writer.Write(_count);
            writer.Write(_next);
            for (var i = 0; i < _count; i++)
            {
                writer.Write(_items[i]);
            }
        }

        public static Trail ReadFrom(BinaryReader reader, int products)
        {
            var trail = new Trail { _count = reader.ReadInt32(), _next = reader.ReadInt32() };
            if (trail._count is < 0 or > TrailLength || trail._next is < 0 or >= TrailLength)
            {
                throw new InvalidDataException("A malformed trail in an item graph snapshot.");
            }

            for (var i = 0; i < trail._count; i++)
            {
                trail._items[i] = reader.ReadInt32() is var item and >= 0 && item < products ? item : throw new InvalidDataException("A trail names an unknown product.");
            }

            return trail;
        }

        public IEnumerable<int> Others(int product)
        {
            for (var i = 0; i < _count; i++)
            {
                if (_items[i] != product)
                {
                    yield return _items[i];
                }
            }
        }
    }
}
