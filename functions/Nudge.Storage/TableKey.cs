using Nudge.Core.Customers;

namespace Nudge.Storage;

/// <summary>Table keys may not hold '/', '\', '#', '?' or control characters; escaping keeps any source id usable.</summary>
public static class TableKey
{
    public static string Escape(string value) => Uri.EscapeDataString(value);

    public static string For(CustomerKey customer) => Escape(customer.ToString());

    /// <summary>One key per shop: the platform and its domain, which shops spell in any case.</summary>
    public static string ForShop(string platform, string shopDomain) => Escape($"{platform}:{shopDomain.ToLowerInvariant()}");
}
