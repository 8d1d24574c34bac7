using Nudge.Core.Delivery;

namespace Nudge.Channels.Tests;

/// <summary>Each channel's limits are those of the provider lane that carries it, as the settings choose.</summary>
public class ChannelRatesTests
{
    private static ChannelRates Rates(string? smsProvider = null, string? kakaoProvider = null) => new(
        new EmailProviderOptions { RateLimits = "30/1m,100/1h" }, new SmsProviderOptions { Provider = smsProvider }, new KakaoProviderOptions { Provider = kakaoProvider },
        new SolapiOptions { RateLimits = "50/1s" }, new AcsSmsOptions { RateLimits = "200/1m" });

    [Theory]
    [InlineData(ChannelNames.Email, null, null, "30/1m,100/1h")]
    [InlineData(ChannelNames.Sms, "solapi", null, "50/1s")]
    [InlineData(ChannelNames.Sms, "acs", null, "200/1m")]
    [InlineData(ChannelNames.Sms, null, null, "50/1s")] // no provider chosen: Solapi's defaults
    [InlineData(ChannelNames.Kakao, "acs", "solapi", "50/1s")]
    [InlineData(ChannelNames.Kakao, "acs", null, "200/1m")] // without Kakao, its messages go out as SMS
    public void LimitsOf_TheProviderThatCarriesTheChannel(string channel, string? sms, string? kakao, string expected)
    {
        var limits = Rates(sms, kakao).LimitsOf(channel);

        Assert.Equal(expected.Split(',').Select(RateLimit.Parse), limits);
    }
}
