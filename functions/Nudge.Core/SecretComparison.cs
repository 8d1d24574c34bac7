using System.Security.Cryptography;
using System.Text;

namespace Nudge.Core;

/// <summary>
/// The one comparison for keys and signatures: its time depends on neither the presented nor the expected value.
/// Keys are hashed first, so not even their length leaks; MACs are compared as bytes of their fixed length.
/// </summary>
public static class SecretComparison
{
    /// <summary>Whether <paramref name="presented"/> is <paramref name="expected"/>; an empty or missing value never matches.</summary>
    public static bool Matches(string? presented, string? expected)
    {
        if (string.IsNullOrEmpty(presented) || string.IsNullOrEmpty(expected))
        {
            return false;
        }

        Span<byte> presentedHash = stackalloc byte[SHA256.HashSizeInBytes];
        Span<byte> expectedHash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(presented), presentedHash);
        SHA256.HashData(Encoding.UTF8.GetBytes(expected), expectedHash);
        return CryptographicOperations.FixedTimeEquals(presentedHash, expectedHash);
    }

    /// <summary>Whether a presented MAC is the expected one (same length, same bytes), in constant time.</summary>
    public static bool Matches(ReadOnlySpan<byte> presented, ReadOnlySpan<byte> expected) =>
        !expected.IsEmpty && CryptographicOperations.FixedTimeEquals(presented, expected);
}
