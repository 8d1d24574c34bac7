using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Nudge.Core.Journeys;

/// <summary>The interpreter's only randomness: a stable number in [0, 1) from a seed, the same on every replay.</summary>
public static class DeterministicHash
{
    public static double Unit(string seed)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(seed), hash);
        return (BinaryPrimitives.ReadUInt64BigEndian(hash) >> 11) * (1.0 / (1UL << 53));
    }
}
