using Nudge.Core.Compliance;
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

        var verdict = SendPolicy.Evaluate(profile, channel, Parse(messageClass));

        Assert.Equal(blockedBecause, verdict.Reason);
        Assert.Equal(blockedBecause is null, verdict.Allowed);
    }

    [Fact]
    public void SendPolicy_NoAddress_BlocksWithReason()
    {
        var profile = new CustomerProfile { Key = new CustomerKey("shopify", "1"), Consent = new MarketingConsent(true, true, true) };

        Assert.Equal("no phone number", SendPolicy.Evaluate(profile, ChannelNames.Kakao, MessageClass.Transactional).Reason);
        Assert.Equal("no email address", SendPolicy.Evaluate(profile, ChannelNames.Email, MessageClass.Ad).Reason);
    }

    private static MessageClass Parse(string text) => text switch
    {
        "ad" => MessageClass.Ad,
        "informational" => MessageClass.Informational,
        _ => MessageClass.Transactional,
    };
}
