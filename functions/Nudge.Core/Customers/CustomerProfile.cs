using Nudge.Core.Events;

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

    /// <summary>
    /// When a source last stated each medium's consent (source time): the newest statement of a medium wins, whatever
    /// the time of the rest of the contact (Shopify's consent topics carry the consent's own time, often before the
    /// customer record's). Null on profiles saved before the stamps: the contact's time stands for every medium.
    /// </summary>
    public ConsentStamps? ConsentStatedAt { get; init; }

    public DateTimeOffset? SignedUpAt { get; init; }
    public DateTimeOffset? FirstOrderAt { get; init; }
    public DateTimeOffset? LastOrderAt { get; init; }

    /// <summary>The distinct orders seen (webhooks and imports alike): <c>profile.ordersCount</c>.</summary>
    public OrderSet Orders { get; init; } = OrderSet.None;

    /// <summary>The source's own last-modified time of the contact data, so an older update never overwrites a newer one.</summary>
    public DateTimeOffset? ContactUpdatedAt { get; init; }

    /// <summary>The latest event of any kind from this customer (source time): the basis of win-back.</summary>
    public DateTimeOffset? LastSeenAt { get; init; }

    public DateTimeOffset? LastLoginAt { get; init; }

    /// <summary>
    /// The latest occurrence (source time) of each event type, so a timer can see an awaited event that reached the
    /// journeys while its instance was being started.
    /// </summary>
    public EventTimes LastEventAt { get; init; } = EventTimes.None;

    /// <summary>The latest cart or checkout snapshot; it is open while newer than the last order.</summary>
    public CartSnapshot? Cart { get; init; }

    public long? PointsBalance { get; init; }
    public DateTimeOffset? PointsUpdatedAt { get; init; }

    /// <summary>What Kakao sends taught: true delivered on Kakao, false not reachable there (SMS/LMS directly); null unknown.</summary>
    public bool? KakaoReachable { get; init; }

    public bool HasOrdered => FirstOrderAt is not null;

    /// <summary>When a source last stated the medium's consent; null: none has.</summary>
    public DateTimeOffset? ConsentStatedAtFor(string medium) => ConsentStatedAt is { } stamps ? stamps.Of(medium) : ContactUpdatedAt;

    /// <summary>The profile with a source's statement of one medium's consent laid over it, unless a newer statement is held.</summary>
    public CustomerProfile WithConsent(string medium, bool granted, DateTimeOffset at)
    {
        if (ConsentStatedAtFor(medium) is { } held && at < held)
        {
            return this;
        }

        var stamps = ConsentStatedAt ?? new ConsentStamps(ContactUpdatedAt, ContactUpdatedAt, ContactUpdatedAt);
        return this with { Consent = Consent.With(medium, granted), ConsentStatedAt = stamps.With(medium, at) };
    }

    /// <summary>A cart or checkout that no later order closed: the abandoned-cart journeys' condition.</summary>
    public bool HasOpenCart => Cart is { } cart && (LastOrderAt is null || cart.UpdatedAt > LastOrderAt);
}

/// <summary>Cart contents as of <see cref="UpdatedAt"/>, with the checkout's recovery link when the source gives one.</summary>
public sealed record CartSnapshot(string? CheckoutId, IReadOnlyList<LineItem> Items, Money? Value, string? RecoveryUrl, DateTimeOffset UpdatedAt);

/// <summary>Consent to advertising per medium; night consent covers ads between 21:00 and 08:00 (Korean rule).</summary>
public sealed record MarketingConsent(bool Email, bool Sms, bool NightAds)
{
    public static MarketingConsent None { get; } = new(false, false, false);

    public bool Of(string medium) => medium switch
    {
        Consent.ConsentMedia.Email => Email,
        Consent.ConsentMedia.Night => NightAds,
        _ => Sms,
    };

    public MarketingConsent With(string medium, bool granted) => medium switch
    {
        Consent.ConsentMedia.Email => this with { Email = granted },
        Consent.ConsentMedia.Night => this with { NightAds = granted },
        _ => this with { Sms = granted },
    };
}

/// <summary>When a source last stated each medium's consent (source time); null: never.</summary>
public sealed record ConsentStamps(DateTimeOffset? Email, DateTimeOffset? Sms, DateTimeOffset? Night)
{
    public static ConsentStamps Never { get; } = new(null, null, null);

    public DateTimeOffset? Of(string medium) => medium switch
    {
        Consent.ConsentMedia.Email => Email,
        Consent.ConsentMedia.Night => Night,
        _ => Sms,
    };

    public ConsentStamps With(string medium, DateTimeOffset at) => medium switch
    {
        Consent.ConsentMedia.Email => this with { Email = at },
        Consent.ConsentMedia.Night => this with { Night = at },
        _ => this with { Sms = at },
    };
}
