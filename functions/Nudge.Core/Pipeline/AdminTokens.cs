using Nudge.Core.Ingest;

namespace Nudge.Core.Pipeline;

/// <summary>
/// An Admin API access token minted from a refresh token, with the refresh token that replaced the one used (Cafe24
/// rotates it on every refresh). <see cref="Seed"/> fingerprints the configured refresh token the chain started from,
/// so a newly configured one takes over from a stored chain. Secrets: never log them.
/// </summary>
public sealed record AdminToken(string AccessToken, DateTimeOffset ExpiresAt, string RefreshToken, string Seed);

/// <summary>Keeps each shop's latest minted token, so a restart continues with the rotated refresh token.</summary>
public interface IAdminTokenStore
{
    Task<AdminToken?> GetAsync(ShopAccount shop, CancellationToken cancellationToken);

    Task SetAsync(ShopAccount shop, AdminToken token, CancellationToken cancellationToken);
}
