using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Nudge.Core;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;
using Nudge.Testing;

namespace Nudge.Benchmarks;

/// <summary>
/// The webhook request path's own work for one signed Shopify <c>customers/create</c> (~830 bytes, the load
/// benchmark's delivery): verify, map, serialize the intake entry, and its share of compressing a batch; against
/// parsing the body into a JSON document, the least any JSON webhook receiver does. Per 1,000 deliveries.
/// </summary>
[MemoryDiagnoser]
public class IngestRequestBenchmarks
{
    private const int Deliveries = 1_000;
    private const string Shop = "bench-shop.myshopify.com";
    private const int BatchSize = 50;
    private readonly ShopAccount _account = new() { Platform = ShopifyWebhook.Platform, Domain = Shop, WebhookSecret = "bench-shopify-webhook-secret" };
    private byte[][] _bodies = [];
    private string[] _signatures = [];
    private string[] _deliveryIds = [];
    private Nudge.Core.Events.CustomerEvent[] _events = [];
    private List<string> _entries = [];

    [GlobalSetup]
    public void Setup()
    {
        _bodies = Enumerable.Range(1, Deliveries).Select(i => Encoding.UTF8.GetBytes(BenchDeliveries.CustomerJson(i))).ToArray();
        _signatures = _bodies.Select(b => WebhookSignature.Compute(b, Encoding.UTF8.GetBytes(_account.WebhookSecret!))).ToArray();
        _deliveryIds = _bodies.Select((_, i) => $"00000000-0000-4000-8000-{i:D12}").ToArray();
        _events = _bodies.Select((b, i) => ((IngestParse.Mapped)ShopifyWebhook.Parse(ShopifyWebhook.Topics.CustomersCreate, Shop, _deliveryIds[i], b)).Event).ToArray();
        _entries = Enumerable.Range(0, Deliveries).Select(EntryJson).ToList();
    }

    [Benchmark(Baseline = true)]
    public int ParseJsonOnly()
    {
        var properties = 0;
        foreach (var body in _bodies)
        {
            using var document = JsonDocument.Parse(body);
            properties += document.RootElement.GetPropertyCount();
        }

        return properties;
    }

    [Benchmark]
    public int Verify()
    {
        var valid = 0;
        for (var i = 0; i < Deliveries; i++)
        {
            valid += _account.IsSigned(_bodies[i], _signatures[i]) ? 1 : 0;
        }

        return valid;
    }

    [Benchmark]
    public int Map()
    {
        var mapped = 0;
        for (var i = 0; i < Deliveries; i++)
        {
            mapped += ShopifyWebhook.Parse(ShopifyWebhook.Topics.CustomersCreate, Shop, _deliveryIds[i], _bodies[i]) is IngestParse.Mapped ? 1 : 0;
        }

        return mapped;
    }

    [Benchmark]
    public int SerializeEntry()
    {
        var chars = 0;
        for (var i = 0; i < Deliveries; i++)
        {
            chars += EntryJson(i).Length;
        }

        return chars;
    }

    [Benchmark]
    public int ComposeBatches()
    {
        var chars = 0;
        for (var i = 0; i < Deliveries; i += BatchSize)
        {
            chars += IngestBatchMessage.Compose("bench", _entries.GetRange(i, BatchSize))!.Length;
        }

        return chars;
    }

    /// <summary>All of the above that one request does: verify, map, serialize its entry, its share of a batch.</summary>
    [Benchmark]
    public int WholeRequestWork() => Verify() + Map() + SerializeEntry() + ComposeBatches();

    /// <summary>As the intake serializes an accepted delivery: the mapped event and the body as received.</summary>
    private string EntryJson(int i) => JsonSerializer.Serialize(new IntakeEntry(_deliveryIds[i], _events[i], _bodies[i]), NudgeJson.Options);

}
