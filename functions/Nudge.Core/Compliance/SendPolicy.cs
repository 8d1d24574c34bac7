using Nudge.Core.Customers;
using Nudge.Core.Delivery;

namespace Nudge.Core.Compliance;

/// <summary>The decision at send time: go, or the reason it must not.</summary>
public sealed record SendVerdict(bool Allowed, string? Reason)
{
    public static SendVerdict Go { get; } = new(true, null);

    public static SendVerdict Block(string reason) => new(false, reason);
}

/// <summary>Checks consent and reachability at send time, so a withdrawal after scheduling still stops the message.</summary>
public static class SendPolicy
{
    public static SendVerdict Evaluate(CustomerProfile? profile, string channel, MessageClass messageClass)
    {
        if (profile is null)
        {
            return SendVerdict.Block("unknown customer");
        }

        var address = channel switch
        {
            ChannelNames.Email => profile.Email,
            ChannelNames.Sms or ChannelNames.Kakao => profile.Phone,
            _ => null,
        };
        if (string.IsNullOrWhiteSpace(address))
        {
            return SendVerdict.Block($"no {(channel == ChannelNames.Email ? "email address" : "phone number")}");
        }

        if (messageClass != MessageClass.Ad)
        {
            return SendVerdict.Go;
        }

        var consented = channel switch
        {
            ChannelNames.Email => profile.Consent.Email,
            ChannelNames.Sms or ChannelNames.Kakao => profile.Consent.Sms,
            _ => false,
        };
        return consented ? SendVerdict.Go : SendVerdict.Block($"no {channel} marketing consent");
    }
}
