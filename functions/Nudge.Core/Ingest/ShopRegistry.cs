namespace Nudge.Core.Ingest;

/// <summary>
/// One shop (or site) a deployment serves, with the secrets that prove a request comes from it. Secrets are
/// personal to the shop: never log them.
/// </summary>
public sealed record ShopAccount
{
    /// <summary>Which source speaks for the shop: <c>shopify</c>, <c>woocommerce</c>, <c>cafe24</c> or <c>events</c>.</summary>
    public required string Platform { get; init; }

    /// <summary>The shop's identity as the source states it: the myshopify domain, the WooCommerce site host, the Cafe24 mall id, the events source id.</summary>
    public required string Domain { get; init; }

    /// <summary>The key that signs the source's requests (HMAC-SHA256).</summary>
    public string? WebhookSecret { get; init; }

    /// <summary>
    /// While the signing secret is rotated, the one it replaces: the platform may still sign with it until it is
    /// revoked (Shopify asks receivers to accept both meanwhile). Unset once the old secret is gone.
    /// </summary>
    public string? PreviousWebhookSecret { get; init; }

    /// <summary>Whether <paramref name="signatureHeader"/> is the body's signature under the secret or, during a rotation, the previous one.</summary>
    public bool IsSigned(ReadOnlySpan<byte> body, string? signatureHeader) =>
        (WebhookSecret is { } secret && WebhookSignature.IsValid(body, System.Text.Encoding.UTF8.GetBytes(secret), signatureHeader))
        || (PreviousWebhookSecret is { } previous && WebhookSignature.IsValid(body, System.Text.Encoding.UTF8.GetBytes(previous), signatureHeader));

    /// <summary>A key presented as is (Cafe24's api-key check, the events API's <c>x-api-key</c>).</summary>
    public string? ApiKey { get; init; }

    /// <summary>The platform's Admin API base URL, for reconciliation; null means the shop is not polled.</summary>
    public string? AdminApiUrl { get; init; }

    /// <summary>A token the Admin API accepts as is (Shopify, Cafe24) or WooCommerce's <c>consumer_key:consumer_secret</c>.</summary>
    public string? AdminAccessToken { get; init; }

    /// <summary>Cafe24: the app's client id and secret and a refresh token, to mint access tokens (they expire after about 2 hours).</summary>
    public string? AdminClientId { get; init; }

    public string? AdminClientSecret { get; init; }

    public string? AdminRefreshToken { get; init; }

    /// <summary>Whether access tokens can be minted for the shop (<see cref="AdminClientId"/>, secret and refresh token all set).</summary>
    public bool CanRefreshAdminToken => !string.IsNullOrEmpty(AdminClientId) && !string.IsNullOrEmpty(AdminClientSecret) && !string.IsNullOrEmpty(AdminRefreshToken);

    /// <summary>Events API only: the platform whose customer ids the site's <c>userId</c>s are (joins the same profile); default <c>web</c>.</summary>
    public string? CustomerPlatform { get; init; }

    /// <summary>Events API only: the shop its events belong to (a webhook shop's domain); null: the source itself.</summary>
    public string? CustomerShop { get; init; }

    public bool CanReconcile => !string.IsNullOrEmpty(AdminApiUrl) && (!string.IsNullOrEmpty(AdminAccessToken) || CanRefreshAdminToken);
}

/// <summary>
/// Finds the shop a request claims to come from. A one-shop Shopify setup needs no list: the single
/// <c>Shopify__WebhookSecret</c> (and during a rotation <c>Shopify__PreviousWebhookSecret</c>) then serves any
/// Shopify domain, until a Shopify shop is listed.
/// </summary>
public sealed class ShopRegistry(IEnumerable<ShopAccount> shops, string? defaultShopifySecret, string? defaultShopifyPreviousSecret = null)
{
    private readonly Dictionary<(string, string), ShopAccount> _shops =
        shops.ToDictionary(s => (s.Platform.ToLowerInvariant(), s.Domain.ToLowerInvariant()));

    public IEnumerable<ShopAccount> All => _shops.Values;

    public ShopAccount? Find(string platform, string domain)
    {
        platform = platform.ToLowerInvariant();
        if (_shops.TryGetValue((platform, domain.ToLowerInvariant()), out var shop))
        {
            return shop;
        }

        var oneShopDefault = platform == ShopifyWebhook.Platform
            && !string.IsNullOrEmpty(defaultShopifySecret)
            && !_shops.Keys.Any(k => k.Item1 == ShopifyWebhook.Platform);
        return oneShopDefault ? new ShopAccount
            {
                Platform = platform, Domain = domain, WebhookSecret = defaultShopifySecret,
                PreviousWebhookSecret = string.IsNullOrEmpty(defaultShopifyPreviousSecret) ? null : defaultShopifyPreviousSecret,
            }
            : null;
    }
}
