using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Nudge.Core.Customers;
using Nudge.Core.Events;

namespace Nudge.Core.Tests;

/// <summary>Profiles fold events idempotently and whatever order they arrive in.</summary>
public class ProfileFoldTests
{
    private static readonly CustomerKey Key = new("shopify", "7001");
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 10, 0, 0, TimeSpan.Zero);

    private static CustomerEvent Event(string type, int minutes, string id, ContactFacts? contact = null, long? points = null) => new()
    {
        EventId = id,
        Customer = Key,
        Type = type,
        OccurredAt = T0.AddMinutes(minutes),
        Contact = contact,
        SubjectId = id,
        PointsBalance = points,
        Items = EventTypes.IsCart(type) ? [new LineItem("p", null, 1, null, null)] : null,
    };

    private static ContactFacts Contact(string email, bool sms, int minutes) => new(email, null, null, new MarketingConsent(true, sms, false), T0.AddMinutes(minutes));

    [Fact]
    public void Apply_ConsentOfOneMedium_ChangesThatMediumOnly()
    {
        var known = ProfileUpdates.Apply(null, Event(EventTypes.CustomerSignedUp, 0, "e1", Contact("a@example.com", sms: true, 0)));

        var emailWithdrawn = ProfileUpdates.Apply(known, Event(EventTypes.CustomerUpdated, 5, "e2",
            new ContactFacts(null, null, null, new MarketingConsent(false, false, false), T0.AddMinutes(5), [Consent.ConsentMedia.Email])));

        Assert.Equal(new MarketingConsent(false, true, false), emailWithdrawn.Consent);
        Assert.Equal("a@example.com", emailWithdrawn.Email);
    }

    [Fact]
    public void Apply_ConsentTopicStampedBeforeTheCustomerRecord_StillSetsItsMedium_AndAnOlderWordOnTheSameMediumDoesNot()
    {
        // Shopify 2025-01 on: the signup carries no consent; the consent topic's time is the consent's own, a moment
        // before the customer record's updated_at.
        var signup = ProfileUpdates.Apply(null, Event(EventTypes.CustomerSignedUp, 0, "s", new ContactFacts("a@example.com", null, null, null, T0.AddSeconds(3))));
        var subscribed = ProfileUpdates.Apply(signup, Event(EventTypes.CustomerUpdated, 0, "c1",
            new ContactFacts(null, null, null, new MarketingConsent(true, true, true), T0.AddSeconds(1), [Consent.ConsentMedia.Email])));
        var staleWithdrawal = ProfileUpdates.Apply(subscribed, Event(EventTypes.CustomerUpdated, 0, "c0",
            new ContactFacts(null, null, null, MarketingConsent.None, T0, [Consent.ConsentMedia.Email])));

        Assert.Null(signup.ConsentStatedAtFor(Consent.ConsentMedia.Email));
        Assert.Equal((true, false, T0.AddSeconds(1)), (subscribed.Consent.Email, subscribed.Consent.Sms, subscribed.ConsentStatedAtFor(Consent.ConsentMedia.Email)));
        Assert.Null(subscribed.ConsentStatedAtFor(Consent.ConsentMedia.Sms));
        Assert.Equal(subscribed, staleWithdrawal);
        Assert.Equal(T0.AddSeconds(3), subscribed.ContactUpdatedAt); // the address stays as of the customer record
    }

    [Fact]
    public void Apply_ProfileSavedBeforeConsentStamps_TakesTheContactTimeForEveryMedium()
    {
        var saved = new CustomerProfile { Key = Key, Consent = new MarketingConsent(false, true, false), ContactUpdatedAt = T0.AddMinutes(10) };

        var older = ProfileUpdates.Apply(saved, Event(EventTypes.CustomerUpdated, 5, "o", Contact("a@example.com", sms: true, minutes: 5)));
        var newer = ProfileUpdates.Apply(saved, Event(EventTypes.CustomerUpdated, 15, "n", Contact("a@example.com", sms: false, minutes: 15)));

        Assert.Equal(saved.Consent, older.Consent); // the unsubscribe it may have recorded is not revived by an older word
        Assert.Equal((new MarketingConsent(true, false, false), T0.AddMinutes(15)), (newer.Consent, newer.ConsentStatedAtFor(Consent.ConsentMedia.Sms)));
    }

    [Fact]
    public void Apply_ContactWithoutConsentOrAddresses_ErasesNothing()
    {
        var known = ProfileUpdates.Apply(null, Event(EventTypes.CustomerSignedUp, 0, "e1", Contact("a@example.com", sms: true, 0)));

        // What a Shopify app without protected-customer-data access receives: blank email, phone and name, no consent.
        var blank = Ingest.ShopifyWebhook.Parse("customers/update", "s.myshopify.com", "d",
            """{"id":7001,"email":"","phone":"","first_name":"  ","updated_at":"2026-11-24T10:05:00Z"}"""u8);
        var after = ProfileUpdates.Apply(known, Assert.IsType<Ingest.IngestParse.Mapped>(blank).Event);

        Assert.Equal(("a@example.com", new MarketingConsent(true, true, false)), (after.Email, after.Consent));
        Assert.Equal(T0.AddMinutes(5), after.ContactUpdatedAt);
    }

    [Fact]
    public void SecretComparison_MatchesOnlyTheSameNonEmptySecret()
    {
        Assert.True(SecretComparison.Matches("key-0001", "key-0001"));
        Assert.False(SecretComparison.Matches("key-0001", "key-0002"));
        Assert.False(SecretComparison.Matches("key-0001", "key-00011"));
        Assert.False(SecretComparison.Matches("", ""));
        Assert.False(SecretComparison.Matches(null, "key"));
        Assert.False(SecretComparison.Matches([1, 2], [1, 2, 3]));
        Assert.True(SecretComparison.Matches([1, 2, 3], [1, 2, 3]));
    }

    [Fact]
    public void Apply_OlderCustomerUpdateAfterNewer_KeepsNewerContactAndConsent()
    {
        var newer = Event(EventTypes.CustomerUpdated, 10, "u2", Contact("new@example.com", sms: false, 10));
        var older = Event(EventTypes.CustomerUpdated, 5, "u1", Contact("old@example.com", sms: true, 5));

        var profile = ProfileUpdates.Apply(ProfileUpdates.Apply(null, newer), older);

        Assert.Equal(("new@example.com", false, T0.AddMinutes(10)), (profile.Email, profile.Consent.Sms, profile.ContactUpdatedAt));
    }

    [Fact]
    public void Apply_ContactWithoutConsent_KeepsStoredConsent()
    {
        var signup = Event(EventTypes.CustomerSignedUp, 0, "s", Contact("a@example.com", sms: true, 0));
        var woo = Event(EventTypes.CustomerUpdated, 5, "w", new ContactFacts(null, "010", null, null, T0.AddMinutes(5)));

        var profile = ProfileUpdates.Apply(ProfileUpdates.Apply(null, signup), woo);

        Assert.Equal(("a@example.com", "010", true), (profile.Email, profile.Phone, profile.Consent.Sms));
    }

    [Fact]
    public void Apply_CartThenLaterOrder_ClosesTheCart_AndANewerCartReopensIt()
    {
        var cart = ProfileUpdates.Apply(null, Event(EventTypes.CheckoutUpdated, 0, "c1"));
        var ordered = ProfileUpdates.Apply(cart, Event(EventTypes.OrderPlaced, 5, "o1"));
        var again = ProfileUpdates.Apply(ordered, Event(EventTypes.CartUpdated, 9, "c2"));

        Assert.Equal((true, false, true), (cart.HasOpenCart, ordered.HasOpenCart, again.HasOpenCart));
    }

    [Fact]
    public void Apply_PointsAndLastSeen_KeepTheNewest()
    {
        var profile = ProfileUpdates.Apply(ProfileUpdates.Apply(null, Event(EventTypes.PointsChanged, 10, "p2", points: 500)), Event(EventTypes.PointsChanged, 1, "p1", points: 100));

        Assert.Equal((500L, T0.AddMinutes(10)), (profile.PointsBalance, profile.LastSeenAt));
    }

    private static readonly CustomerEvent[] History =
    [
        Event(EventTypes.CustomerSignedUp, 0, "e0", Contact("a@example.com", true, 0)),
        Event(EventTypes.CustomerUpdated, 3, "e1", Contact("b@example.com", false, 3)),
        Event(EventTypes.CheckoutStarted, 4, "e2"),
        Event(EventTypes.OrderPlaced, 6, "e3"),
        Event(EventTypes.CartUpdated, 8, "e4"),
        Event(EventTypes.PointsChanged, 9, "e5", points: 70),
        Event(EventTypes.CustomerLoggedIn, 11, "e6"),
        Event(EventTypes.OrderPaid, 12, "e7"),
    ];

    [Property(MaxTest = 200)]
    public Property Apply_AnyOrderWithRedeliveries_GivesTheSameProfile()
    {
        var expected = Comparable(History.Aggregate((CustomerProfile?)null, ProfileUpdates.Apply)!);
        var deliveries = Gen.ListOf(Gen.Choose(0, History.Length - 1)).Select(extra => History.Concat(extra.Select(i => History[i])).ToArray())
            .SelectMany(events => Gen.Shuffle(events));
        return Prop.ForAll(deliveries.ToArbitrary(), order => Comparable(order.Aggregate((CustomerProfile?)null, ProfileUpdates.Apply)!) == expected);
    }

    /// <summary>Records compare lists by reference; compare the cart by its contents' count and time instead.</summary>
    private static CustomerProfile Comparable(CustomerProfile p) => p with { Cart = p.Cart! with { Items = [] } };
}
