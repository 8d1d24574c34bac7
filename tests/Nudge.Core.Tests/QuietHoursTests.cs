using Nudge.Core.Compliance;
using Nudge.Core.Delivery;

namespace Nudge.Core.Tests;

public class QuietHoursTests
{
    private static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    private static DateTimeOffset Kst(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, TimeSpan.FromHours(9));

    [Theory]
    [InlineData(20, 59, 20, 59)] // just before 21:00: allowed now
    [InlineData(21, 0, 8, 0)]    // 21:00 starts the night: next morning 08:00
    [InlineData(1, 2, 8, 0)]     // after midnight: same day's 08:00
    [InlineData(7, 59, 8, 0)]
    [InlineData(8, 0, 8, 0)]
    public void NextAllowed_SmsAdWithoutNightConsent_DefersToEightAm(int hour, int minute, int expectedHour, int expectedMinute)
    {
        var at = Kst(25, hour, minute);
        var allowed = QuietHours.NextAllowed(ChannelNames.Sms, MessageClass.Ad, at, Seoul, nightConsent: false);

        var local = TimeZoneInfo.ConvertTime(allowed, Seoul);
        Assert.Equal((expectedHour, expectedMinute), (local.Hour, local.Minute));
        Assert.True(allowed >= at);
        Assert.True(allowed - at < TimeSpan.FromHours(11.01));
    }

    [Fact]
    public void NextAllowed_SmsAdWithNightConsent_IsNow()
    {
        var at = Kst(25, 23);
        Assert.Equal(at, QuietHours.NextAllowed(ChannelNames.Sms, MessageClass.Ad, at, Seoul, nightConsent: true));
    }

    [Fact]
    public void NextAllowed_EmailAdAtNight_IsNow()
    {
        var at = Kst(25, 23);
        Assert.Equal(at, QuietHours.NextAllowed(ChannelNames.Email, MessageClass.Ad, at, Seoul, nightConsent: false));
    }

    [Fact]
    public void NextAllowed_InformationalSmsAtNight_IsNow()
    {
        var at = Kst(25, 3);
        Assert.Equal(at, QuietHours.NextAllowed(ChannelNames.Sms, MessageClass.Informational, at, Seoul, nightConsent: false));
    }

    [Fact]
    public void NextAllowed_KakaoAdAt2055EvenWithNightConsent_DefersToNextMorning()
    {
        var allowed = QuietHours.NextAllowed(ChannelNames.Kakao, MessageClass.Ad, Kst(25, 20, 55), Seoul, nightConsent: true);
        Assert.Equal(Kst(26, 8), allowed);
    }

    [Fact]
    public void NextAllowed_UtcInstantAtKoreanNight_DefersInCustomerZone()
    {
        // 16:02 UTC is 01:02 in Seoul.
        var at = new DateTimeOffset(2026, 11, 27, 16, 2, 0, TimeSpan.Zero);
        var allowed = QuietHours.NextAllowed(ChannelNames.Sms, MessageClass.Ad, at, Seoul, nightConsent: false);
        Assert.Equal(Kst(28, 8), allowed);
    }
}
