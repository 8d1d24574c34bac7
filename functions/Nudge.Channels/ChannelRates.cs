using Nudge.Core.Delivery;

namespace Nudge.Channels;

/// <summary>
/// Each channel's limits as the provider lanes apply them: email its ACS limits; SMS its first provider's (Solapi unless
/// ACS is chosen); Kakao Solapi's when Kakao goes through Solapi, else SMS's (its messages go out as SMS/LMS).
/// </summary>
public sealed class ChannelRates(EmailProviderOptions email, SmsProviderOptions sms, KakaoProviderOptions kakao, SolapiOptions solapi, AcsSmsOptions acsSms) : IChannelRates
{
    public IReadOnlyList<RateLimit> LimitsOf(string channel) => ProviderOptionChecks.ParseLimits(channel switch
    {
        ChannelNames.Email => email.RateLimits,
        ChannelNames.Kakao when kakao.Provider == "solapi" => solapi.RateLimits,
        _ => sms.Provider == "acs" ? acsSms.RateLimits : solapi.RateLimits,
    });
}
