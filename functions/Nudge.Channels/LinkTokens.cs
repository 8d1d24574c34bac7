using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Nudge.Core.Customers;

namespace Nudge.Channels;

/// <summary>What an unsubscribe link stands for: this customer, this medium, from this message.</summary>
public sealed record UnsubscribeToken(CustomerKey Customer, string Channel, string DeliveryId);

/// <summary>What a tracked link stands for: a click by this customer on this link of this message.</summary>
public sealed record ClickToken(CustomerKey Customer, string DeliveryId, string Link);

/// <summary>
/// Signed, self-contained tokens for the app's public links, so the unsubscribe and click endpoints need no lookup
/// table and cannot be forged to unsubscribe someone else: <c>payload.signature</c>, both base64url, the signature
/// a truncated HMAC-SHA256 under <see cref="ChannelOptions.LinkSecret"/>.
/// </summary>
public sealed class LinkTokens(IOptions<ChannelOptions> options)
{
    private const char Separator = '\n';

    private string BaseUrl => options.Value.PublicBaseUrl.TrimEnd('/');

    public string UnsubscribeUrl(UnsubscribeToken token) =>
        $"{BaseUrl}/api/unsubscribe?t={Sign("u", token.Customer.Platform, token.Customer.CustomerId, token.Channel, token.DeliveryId)}";

    public string ClickUrl(ClickToken token) =>
        $"{BaseUrl}/api/r/{Sign("c", token.Customer.Platform, token.Customer.CustomerId, token.DeliveryId, token.Link)}";

    public UnsubscribeToken? ReadUnsubscribe(string token) =>
        Verify(token, "u") is [var platform, var customerId, var channel, var deliveryId]
            ? new UnsubscribeToken(new CustomerKey(platform, customerId), channel, deliveryId)
            : null;

    public ClickToken? ReadClick(string token) =>
        Verify(token, "c") is [var platform, var customerId, var deliveryId, var link]
            ? new ClickToken(new CustomerKey(platform, customerId), deliveryId, link)
            : null;

    private string Sign(params string[] parts)
    {
        var payload = Encoding.UTF8.GetBytes(string.Join(Separator, parts));
        return $"{Base64Url(payload)}.{Base64Url(Mac(payload))}";
    }

    private string[]? Verify(string token, string purpose)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0 || !TryDecode(token[..dot], out var payload) || !TryDecode(token[(dot + 1)..], out var mac)
            || !Core.SecretComparison.Matches(mac, Mac(payload)))
        {
            return null;
        }

        var parts = Encoding.UTF8.GetString(payload).Split(Separator);
        return parts.Length > 1 && parts[0] == purpose ? parts[1..] : null;
    }

    private byte[] Mac(byte[] payload) => HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Value.LinkSecret), payload)[..16];

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryDecode(string text, out byte[] bytes)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        bytes = new byte[base64.Length];
        if (Convert.TryFromBase64String(base64, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        return false;
    }
}
