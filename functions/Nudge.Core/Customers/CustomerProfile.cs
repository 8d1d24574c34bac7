namespace Nudge.Core.Customers;

/// <summary>What the engine knows of one customer. Contact fields are personal data: never log them.</summary>
public sealed record CustomerProfile
{
    public required CustomerKey Key { get; init; }
    public string? ShopDomain { get; init; }
    public string? Email { get; init; }
    public string? Phone { get; init; }
    public string? FirstName { get; init; }

    /// <summary>IANA time zone of the customer; null means the shop's default.</summary>
    public string? TimeZone { get; init; }

    public MarketingConsent Consent { get; init; } = MarketingConsent.None;

    public DateTimeOffset? SignedUpAt { get; init; }
    public DateTimeOffset? FirstOrderAt { get; init; }
    public DateTimeOffset? LastOrderAt { get; init; }

    /// <summary>The source's own last-modified time of the contact data, so an older update never overwrites a newer one.</summary>
    public DateTimeOffset? ContactUpdatedAt { get; init; }

    /// <summary>What Kakao sends taught: true delivered on Kakao, false not reachable there (SMS/LMS directly); null unknown.</summary>
    public bool? KakaoReachable { get; init; }

    public bool HasOrdered => FirstOrderAt is not null;
}

/// <summary>Consent to advertising per medium; night consent covers ads between 21:00 and 08:00 (Korean rule).</summary>
public sealed record MarketingConsent(bool Email, bool Sms, bool NightAds)
{
    public static MarketingConsent None { get; } = new(false, false, false);
}
