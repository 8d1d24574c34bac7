using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.App.Reconciliation;

/// <summary>
/// Cafe24 access tokens per mall. A configured <c>AdminAccessToken</c> is used as is; with <c>AdminClientId</c>,
/// <c>AdminClientSecret</c> and <c>AdminRefreshToken</c> a token is minted through <c>POST {AdminApiUrl}/oauth/token</c>
/// (<c>grant_type=refresh_token</c>, HTTP Basic with the client id and secret) before the current one expires (about
/// 2 hours) or when the API rejects it. Cafe24 replaces the refresh token on every use, so the new pair is kept in
/// <see cref="IAdminTokenStore"/> and a restart goes on from it; configuring a different refresh token starts over.
/// The stored tokens are sealed (AES-GCM, key derived from the mall's client secret, bound to the mall): reading the
/// storage account alone does not give API access. Tokens and secrets never reach a log.
/// </summary>
public sealed partial class Cafe24AdminTokens(IHttpClientFactory clients, IAdminTokenStore store, ILogger<Cafe24AdminTokens> logger)
{
    /// <summary>A token this close to its expiry is replaced before use.</summary>
    private static readonly TimeSpan Margin = TimeSpan.FromMinutes(5);

    /// <summary>How a sealed token starts (version 1: AES-GCM, 12-byte nonce, 16-byte tag, then the ciphertext).</summary>
    private const string SealedPrefix = "v1.";
    private const int NonceBytes = 12;
    private const int TagBytes = 16;

    private readonly ConcurrentDictionary<string, AdminToken> _minted = new();
    private readonly SemaphoreSlim _refreshing = new(1, 1);

    /// <summary>The token to use for <paramref name="shop"/>; <paramref name="rejected"/> is one the API just refused (401).</summary>
    public async Task<string> GetAsync(ShopAccount shop, string? rejected, CancellationToken cancellationToken)
    {
        if (!shop.CanRefreshAdminToken)
        {
            return shop.AdminAccessToken!;
        }

        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            var seed = Seed(shop.AdminRefreshToken!);
            var current = _minted.TryGetValue(shop.Domain, out var cached) ? cached : Opened(await store.GetAsync(shop, cancellationToken), shop);
            current = current?.Seed == seed ? current : null; // a newly configured refresh token starts a new chain
            if (current is null && shop.AdminAccessToken is { } configured && configured != rejected)
            {
                return configured;
            }

            if (current is not null && current.AccessToken != rejected && current.ExpiresAt - DateTimeOffset.UtcNow > Margin)
            {
                return current.AccessToken;
            }

            var minted = await RefreshAsync(shop, current?.RefreshToken ?? shop.AdminRefreshToken!, seed, cancellationToken);
            await store.SetAsync(shop, minted with { AccessToken = Seal(minted.AccessToken, shop), RefreshToken = Seal(minted.RefreshToken, shop) }, cancellationToken);
            _minted[shop.Domain] = minted;
            LogRefreshed(logger, shop.Domain, minted.ExpiresAt);
            return minted.AccessToken;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<AdminToken> RefreshAsync(ShopAccount shop, string refreshToken, string seed, CancellationToken cancellationToken)
    {
        using var response = await AdminApis.SendAsync(clients, () => new HttpRequestMessage(HttpMethod.Post, $"{shop.AdminApiUrl!.TrimEnd('/')}/oauth/token")
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{shop.AdminClientId}:{shop.AdminClientSecret}"))) },
            Content = new FormUrlEncodedContent([new("grant_type", "refresh_token"), new("refresh_token", refreshToken)]),
        }, cancellationToken);
        using var document = await AdminApis.ReadJsonAsync(response, cancellationToken);
        var root = document.RootElement;
        if (JsonFields.GetString(root, "access_token") is not { Length: > 0 } access || JsonFields.GetString(root, "refresh_token") is not { Length: > 0 } next)
        {
            throw new HttpRequestException($"Cafe24 mall {shop.Domain}: the token answer lacks access_token or refresh_token.");
        }

        return new AdminToken(access, ExpiresAt(JsonFields.GetString(root, "expires_at")), next, seed);
    }

    /// <summary>Cafe24 writes <c>expires_at</c> without an offset; its times are Korean. Unreadable: assume an hour.</summary>
    private static DateTimeOffset ExpiresAt(string? value) =>
        !DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var time) ? DateTimeOffset.UtcNow.AddHours(1)
        : time.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(time, Cafe24AdminClient.Korea)
        : new DateTimeOffset(time.ToUniversalTime());

    /// <summary>A stored token opened; null when it cannot be opened (the client secret changed): the chain starts over.</summary>
    private static AdminToken? Opened(AdminToken? stored, ShopAccount shop)
    {
        try
        {
            return stored is null ? null : stored with { AccessToken = Open(stored.AccessToken, shop), RefreshToken = Open(stored.RefreshToken, shop) };
        }
        catch (Exception e) when (e is CryptographicException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static string Seal(string token, ShopAccount shop)
    {
        var plain = Encoding.UTF8.GetBytes(token);
        var sealedBytes = new byte[NonceBytes + TagBytes + plain.Length];
        var nonce = sealedBytes.AsSpan(0, NonceBytes);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(KeyFor(shop), TagBytes);
        aes.Encrypt(nonce, plain, sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), BoundTo(shop));
        return SealedPrefix + Convert.ToBase64String(sealedBytes);
    }

    /// <summary>Opens a sealed token; one stored before tokens were sealed is taken as it is (the next refresh seals it).</summary>
    private static string Open(string stored, ShopAccount shop)
    {
        if (!stored.StartsWith(SealedPrefix, StringComparison.Ordinal))
        {
            return stored;
        }

        var sealedBytes = Convert.FromBase64String(stored[SealedPrefix.Length..]);
        var plain = new byte[sealedBytes.Length - NonceBytes - TagBytes];
        using var aes = new AesGcm(KeyFor(shop), TagBytes);
        aes.Decrypt(sealedBytes.AsSpan(0, NonceBytes), sealedBytes.AsSpan(NonceBytes + TagBytes), sealedBytes.AsSpan(NonceBytes, TagBytes), plain, BoundTo(shop));
        return Encoding.UTF8.GetString(plain);
    }

    private static byte[] BoundTo(ShopAccount shop) => Encoding.UTF8.GetBytes($"{shop.Platform}:{shop.Domain}");

    private static byte[] KeyFor(ShopAccount shop) =>
        HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(shop.AdminClientSecret!), 32, BoundTo(shop), "nudge admin token v1"u8.ToArray());

    private static string Seed(string refreshToken) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(refreshToken)))[..32];

    [LoggerMessage(Level = LogLevel.Information, Message = "Cafe24 mall {Mall}: access token refreshed, valid until {ExpiresAt}")]
    private static partial void LogRefreshed(ILogger logger, string mall, DateTimeOffset expiresAt);
}
