using System.Security.Cryptography;

namespace Nudge.Core.Ingest;

/// <summary>Base64 HMAC-SHA256 over the raw body, the scheme Shopify and WooCommerce use.</summary>
public static class WebhookSignature
{
    public static string Compute(ReadOnlySpan<byte> body, ReadOnlySpan<byte> secret)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, body, mac);
        return Convert.ToBase64String(mac);
    }

    /// <summary>Constant-time check of a base64 signature header against the raw bytes as received.</summary>
    public static bool IsValid(ReadOnlySpan<byte> body, ReadOnlySpan<byte> secret, string? signatureHeader)
    {
        if (string.IsNullOrWhiteSpace(signatureHeader) || secret.IsEmpty)
        {
            return false;
        }

        Span<byte> presented = stackalloc byte[64];
        if (!Convert.TryFromBase64String(signatureHeader.Trim(), presented, out var written) || written != HMACSHA256.HashSizeInBytes)
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(secret, body, expected);
        return SecretComparison.Matches(presented[..written], expected);
    }
}
