using System.Security.Cryptography;
using System.Text;

namespace Nudge.Core.Delivery;

/// <summary>
/// The deterministic id of one side effect: journey instance + step + attempt. It is the delivery row key,
/// the key a worker dedupes queue messages by and the provider idempotency key.
/// </summary>
public static class DeliveryId
{
    public static string For(string instanceId, int stepIndex, int attempt)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{instanceId}\n{stepIndex}\n{attempt}"), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}
