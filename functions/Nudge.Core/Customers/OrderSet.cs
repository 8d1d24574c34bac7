using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nudge.Core.Customers;

/// <summary>
/// The distinct orders a customer placed, as 32-bit hashes of their ids, so <c>profile.ordersCount</c> counts an order
/// once however often its webhooks are redelivered, whether it came by webhook, by import or both. Equal by content,
/// so the fold stays order-independent. At most <see cref="Capacity"/> orders are told apart; a count at the capacity
/// means that many or more (collisions among one customer's orders are negligible: about 1 in 8,000 at the capacity).
/// </summary>
[JsonConverter(typeof(OrderSetJsonConverter))]
public sealed class OrderSet : IEquatable<OrderSet>
{
    public const int Capacity = 1000;

    private readonly ImmutableSortedSet<uint> _hashes;

    private OrderSet(ImmutableSortedSet<uint> hashes) => _hashes = hashes;

    public static OrderSet None { get; } = new(ImmutableSortedSet<uint>.Empty);

    public int Count => _hashes.Count;

    /// <summary>These orders, or a copy with the order added when it is new and there is room.</summary>
    public OrderSet With(string orderId)
    {
        var hash = HashOf(orderId);
        return _hashes.Count >= Capacity || _hashes.Contains(hash) ? this : new OrderSet(_hashes.Add(hash));
    }

    public static uint HashOf(string orderId)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(orderId), digest);
        return BinaryPrimitives.ReadUInt32BigEndian(digest);
    }

    internal byte[] ToBytes()
    {
        var bytes = new byte[_hashes.Count * 4];
        var i = 0;
        foreach (var hash in _hashes)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(i), hash);
            i += 4;
        }

        return bytes;
    }

    internal static OrderSet FromBytes(ReadOnlySpan<byte> bytes)
    {
        var builder = ImmutableSortedSet.CreateBuilder<uint>();
        for (var i = 0; i + 4 <= bytes.Length && builder.Count < Capacity; i += 4)
        {
            builder.Add(BinaryPrimitives.ReadUInt32BigEndian(bytes[i..]));
        }

        return builder.Count == 0 ? None : new OrderSet(builder.ToImmutable());
    }

    public bool Equals(OrderSet? other) => other is not null && _hashes.SetEquals(other._hashes);

    public override bool Equals(object? obj) => Equals(obj as OrderSet);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var order in _hashes)
        {
            hash.Add(order);
        }

        return hash.ToHashCode();
    }
}

/// <summary>An order set as one base64 string of its sorted hashes (4 bytes an order), compact inside the profile row.</summary>
public sealed class OrderSetJsonConverter : JsonConverter<OrderSet>
{
    public override OrderSet Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        OrderSet.FromBytes(reader.GetBytesFromBase64());

    public override void Write(Utf8JsonWriter writer, OrderSet value, JsonSerializerOptions options) =>
        writer.WriteBase64StringValue(value.ToBytes());
}
