using Nudge.Core.Events;

namespace Nudge.Core.Customers;

/// <summary>Folds one event into a profile. Idempotent and order-tolerant: replaying or reordering events gives the same profile.</summary>
public static class ProfileUpdates
{
    public static CustomerProfile Apply(CustomerProfile? current, CustomerEvent evt)
    {
        var profile = current ?? new CustomerProfile { Key = evt.Customer, ConsentStatedAt = ConsentStamps.Never };
        profile = profile with
        {
            ShopDomain = profile.ShopDomain ?? evt.ShopDomain,
            LastSeenAt = Max(profile.LastSeenAt, evt.OccurredAt),
            LastEventAt = profile.LastEventAt.With(evt.Type, evt.OccurredAt),
        };

        if (evt.Contact is { } contact && IsNewer(contact.UpdatedAt, profile.ContactUpdatedAt))
        {
            profile = profile with
            {
                Email = contact.Email ?? profile.Email,
                Phone = contact.Phone ?? profile.Phone,
                FirstName = contact.FirstName ?? profile.FirstName,
                ContactUpdatedAt = contact.UpdatedAt,
            };
        }

        foreach (var (medium, granted) in evt.Contact?.StatedConsent() ?? [])
        {
            profile = profile.WithConsent(medium, granted, evt.Contact!.UpdatedAt);
        }

        if (EventTypes.IsCart(evt.Type) && IsNewer(evt.OccurredAt, profile.Cart?.UpdatedAt))
        {
            profile = profile with { Cart = new CartSnapshot(evt.SubjectId, evt.Items ?? [], evt.Value, evt.Url, evt.OccurredAt) };
        }

        return evt.Type switch
        {
            EventTypes.CustomerSignedUp => profile with { SignedUpAt = Min(profile.SignedUpAt, evt.OccurredAt) },
            _ when EventTypes.IsOrder(evt.Type) => profile with
            {
                FirstOrderAt = Min(profile.FirstOrderAt, evt.OccurredAt),
                LastOrderAt = Max(profile.LastOrderAt, evt.OccurredAt),
                Orders = profile.Orders.With(evt.SubjectId ?? evt.EventId),
            },
            EventTypes.CustomerLoggedIn => profile with { LastLoginAt = Max(profile.LastLoginAt, evt.OccurredAt) },
            EventTypes.PointsChanged when evt.PointsBalance is { } balance && IsNewer(evt.OccurredAt, profile.PointsUpdatedAt) =>
                profile with { PointsBalance = balance, PointsUpdatedAt = evt.OccurredAt },
            _ => profile,
        };
    }

    /// <summary>
    /// Folds an imported customer row into a profile by the same rules as events: the earliest signup, the latest
    /// login and activity, and contact, consent, time zone and points as of the upload, so a webhook newer than the
    /// export wins and an older one does not. Only the columns the row gives change anything. Idempotent.
    /// </summary>
    public static CustomerProfile ApplyImported(CustomerProfile? current, CustomerKey key, string shopDomain, Imports.ImportedCustomer row, DateTimeOffset asOf)
    {
        var profile = current ?? new CustomerProfile { Key = key, ConsentStatedAt = ConsentStamps.Never };
        profile = profile with { ShopDomain = profile.ShopDomain ?? shopDomain };
        if (row.CreatedAt is { } created)
        {
            profile = profile with
            {
                SignedUpAt = Min(profile.SignedUpAt, created),
                LastSeenAt = Max(profile.LastSeenAt, created),
                LastEventAt = profile.LastEventAt.With(EventTypes.CustomerSignedUp, created),
            };
        }

        if (row.LastLoginAt is { } login)
        {
            profile = profile with
            {
                LastLoginAt = Max(profile.LastLoginAt, login),
                LastSeenAt = Max(profile.LastSeenAt, login),
                LastEventAt = profile.LastEventAt.With(EventTypes.CustomerLoggedIn, login),
            };
        }

        if (IsNewer(asOf, profile.ContactUpdatedAt))
        {
            profile = profile with
            {
                Email = row.Email ?? profile.Email,
                Phone = row.Phone ?? profile.Phone,
                FirstName = row.FirstName ?? profile.FirstName,
                TimeZone = row.TimeZone ?? profile.TimeZone,
                ContactUpdatedAt = asOf,
            };
        }

        foreach (var (medium, granted) in new[] { (Consent.ConsentMedia.Email, row.EmailConsent), (Consent.ConsentMedia.Sms, row.SmsConsent), (Consent.ConsentMedia.Night, row.NightConsent) })
        {
            if (granted is { } stated)
            {
                profile = profile.WithConsent(medium, stated, asOf);
            }
        }

        if (row.Points is { } points && IsNewer(asOf, profile.PointsUpdatedAt))
        {
            profile = profile with { PointsBalance = points, PointsUpdatedAt = asOf };
        }

        return profile;
    }

    private static bool IsNewer(DateTimeOffset incoming, DateTimeOffset? stored) => stored is null || incoming >= stored;

    private static DateTimeOffset Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
