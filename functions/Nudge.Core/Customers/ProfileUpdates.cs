using Nudge.Core.Events;

namespace Nudge.Core.Customers;

/// <summary>Folds one event into a profile. Idempotent and order-tolerant: replaying or reordering events gives the same profile.</summary>
public static class ProfileUpdates
{
    public static CustomerProfile Apply(CustomerProfile? current, CustomerEvent evt)
    {
        var profile = current ?? new CustomerProfile { Key = evt.Customer };
        profile = profile with { ShopDomain = profile.ShopDomain ?? evt.ShopDomain };

        if (evt.Contact is { } contact && IsNewer(contact.UpdatedAt, profile.ContactUpdatedAt))
        {
            profile = profile with
            {
                Email = contact.Email,
                Phone = contact.Phone,
                FirstName = contact.FirstName,
                Consent = contact.Consent,
                ContactUpdatedAt = contact.UpdatedAt,
            };
        }

        return evt.Type switch
        {
            EventTypes.CustomerSignedUp => profile with { SignedUpAt = Min(profile.SignedUpAt, evt.OccurredAt) },
            EventTypes.OrderPlaced => profile with
            {
                FirstOrderAt = Min(profile.FirstOrderAt, evt.OccurredAt),
                LastOrderAt = Max(profile.LastOrderAt, evt.OccurredAt),
            },
            _ => profile,
        };
    }

    private static bool IsNewer(DateTimeOffset incoming, DateTimeOffset? stored) => stored is null || incoming >= stored;

    private static DateTimeOffset Min(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;

    private static DateTimeOffset Max(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x > b ? x : b;
}
