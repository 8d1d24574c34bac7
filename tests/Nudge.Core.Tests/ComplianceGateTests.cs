using Nudge.Core.Compliance;
using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;

namespace Nudge.Core.Tests;

/// <summary>Every send-time rule with the clock on both sides of 20:50 (Kakao), 21:00 and 08:00 KST.</summary>
public class ComplianceGateTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    private static DateTimeOffset Kst(int hour, int minute) => new(2026, 11, 25, hour, minute, 0, TimeSpan.FromHours(9));

    [Theory]
    // channel, class, night consent, time, allowed now
    [InlineData("sms", "ad", false, 7, 59, false)]
    [InlineData("sms", "ad", false, 8, 0, true)]
    [InlineData("sms", "ad", false, 20, 59, true)]
    [InlineData("sms", "ad", false, 21, 0, false)]
    [InlineData("sms", "ad", true, 21, 0, true)]
    [InlineData("sms", "ad", true, 7, 59, true)]
    [InlineData("sms", "informational", false, 21, 0, true)]
    [InlineData("sms", "transactional", false, 7, 59, true)]
    [InlineData("kakao", "ad", false, 20, 49, true)]
    [InlineData("kakao", "ad", false, 20, 50, false)]
    [InlineData("kakao", "ad", true, 20, 50, false)]   // Kakao's own window: no consent lifts it
    [InlineData("kakao", "ad", true, 7, 59, false)]
    [InlineData("kakao", "ad", false, 8, 0, true)]
    [InlineData("kakao", "informational", false, 23, 0, true)] // AlimTalk is not an ad
    [InlineData("email", "ad", false, 21, 0, true)]    // email is exempt from the night rule
    [InlineData("email", "ad", false, 7, 59, true)]
    public void QuietHours_BothSidesOfTheBoundaries(string channel, string messageClass, bool nightConsent, int hour, int minute, bool allowedNow)
    {
        var at = Kst(hour, minute);
        var allowed = QuietHours.NextAllowed(channel, Parse(messageClass), at, Seoul, nightConsent);

        Assert.Equal(allowedNow, allowed == at);
        if (!allowedNow)
        {
            Assert.Equal(new TimeOnly(8, 0), TimeOnly.FromDateTime(TimeZoneInfo.ConvertTime(allowed, Seoul).DateTime));
        }
    }

    [Theory]
    [InlineData("email", "ad", false, true, null)]
    [InlineData("email", "ad", true, false, "no email marketing consent")]
    [InlineData("sms", "ad", false, true, "no sms marketing consent")]
    [InlineData("kakao", "ad", false, true, "no kakao marketing consent")]
    [InlineData("sms", "ad", true, true, null)]
    [InlineData("sms", "transactional", false, false, null)] // no consent needed for what the customer asked for
    [InlineData("email", "informational", false, false, null)]
    public void SendPolicy_ConsentPerMedium(string channel, string messageClass, bool smsConsent, bool emailConsent, string? blockedBecause)
    {
        var profile = new CustomerProfile
        {
            Key = new CustomerKey("shopify", "1"), Email = "a@example.com", Phone = "+821012345678",
            Consent = new MarketingConsent(emailConsent, smsConsent, false),
        };

        var verdict = SendPolicy.Evaluate(profile, channel, Parse(messageClass), SignedUp.AddDays(1));

        Assert.Equal(blockedBecause, verdict.Reason);
        Assert.Equal(blockedBecause is null, verdict.Allowed);
    }

    [Fact]
    public void SendPolicy_NoAddress_BlocksWithReason()
    {
        var profile = new CustomerProfile { Key = new CustomerKey("shopify", "1"), Consent = new MarketingConsent(true, true, true) };

        Assert.Equal("no phone number", SendPolicy.Evaluate(profile, ChannelNames.Kakao, MessageClass.Transactional, SignedUp).Reason);
        Assert.Equal("no email address", SendPolicy.Evaluate(profile, ChannelNames.Email, MessageClass.Ad, SignedUp).Reason);
    }

    private static readonly DateTimeOffset SignedUp = new(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(9));

    [Fact]
    public void SendPolicy_AdSoonAfterASignupThatSaidNothingOfConsent_WaitsForTheShopsWord_ThenNoWordIsNoConsent()
    {
        // A Shopify signup since API 2025-01: the customer payload carries no consent; the consent topics follow.
        var signup = ProfileUpdates.Apply(null, new Events.CustomerEvent
        {
            EventId = "e1", Customer = new CustomerKey("shopify", "1"), Type = Events.EventTypes.CustomerSignedUp, OccurredAt = SignedUp,
            Contact = new Events.ContactFacts("a@example.com", "+821012345678", "Mina", Consent: null, UpdatedAt: SignedUp.AddSeconds(2)),
        });

        var soon = SendPolicy.Evaluate(signup, ChannelNames.Email, MessageClass.Ad, SignedUp.AddSeconds(5));
        var late = SendPolicy.Evaluate(signup, ChannelNames.Email, MessageClass.Ad, SignedUp.AddMinutes(9.5));
        var past = SendPolicy.Evaluate(signup, ChannelNames.Email, MessageClass.Ad, SignedUp + SendPolicy.ConsentStatementGrace);
        // The email topic, stamped with the consent's own time (before the customer record's), then says "subscribed".
        var subscribed = signup.WithConsent(ConsentMedia.Email, granted: true, SignedUp);
        var declined = signup.WithConsent(ConsentMedia.Email, granted: false, SignedUp);

        Assert.Equal((false, SignedUp.AddSeconds(5) + SendPolicy.ConsentRecheck), (soon.Allowed, soon.RecheckAt));
        Assert.Equal(SignedUp + SendPolicy.ConsentStatementGrace, late.RecheckAt);
        Assert.Equal((false, null, "no email marketing consent"), (past.Allowed, past.RecheckAt, past.Reason));
        Assert.True(SendPolicy.Evaluate(subscribed, ChannelNames.Email, MessageClass.Ad, SignedUp.AddSeconds(5)).Allowed);
        var refused = SendPolicy.Evaluate(declined, ChannelNames.Email, MessageClass.Ad, SignedUp.AddSeconds(5));
        Assert.Equal((null, "no email marketing consent"), (refused.RecheckAt, refused.Reason));
        // SMS was not stated by the email topic: it still waits.
        Assert.NotNull(SendPolicy.Evaluate(subscribed, ChannelNames.Sms, MessageClass.Ad, SignedUp.AddSeconds(5)).RecheckAt);
    }

    private static MessageClass Parse(string text) => text switch
    {
        "ad" => MessageClass.Ad,
        "informational" => MessageClass.Informational,
        _ => MessageClass.Transactional,
    };
}
