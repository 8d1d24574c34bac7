using Nudge.Core.Customers;
using Nudge.Core.Delivery;

namespace Nudge.Core.Compliance;

/// <summary>The decision at send time: go, the reason it must not, or when to ask again (<see cref="RecheckAt"/>).</summary>
public sealed record SendVerdict(bool Allowed, string? Reason, DateTimeOffset? RecheckAt = null)
{
    public static SendVerdict Go { get; } = new(true, null);

    public static SendVerdict Block(string reason) => new(false, reason);

    public static SendVerdict WaitUntil(DateTimeOffset at, string reason) => new(false, reason, at);
}

/// <summary>Checks consent and reachability at send time, so a withdrawal after scheduling still stops the message.</summary>
public static class SendPolicy
{
    /// <summary>
    /// How long after a signup an ad waits for the first word on its medium's consent. Shopify (API 2025-01 on) sends
    /// consent on its own topics, apart from the signup: a welcome decided before that webhook lands would otherwise
    /// be suppressed for a customer who did consent. Past it, no word is no consent.
    /// </summary>
    public static readonly TimeSpan ConsentStatementGrace = TimeSpan.FromMinutes(10);

    /// <summary>How often a waiting ad looks again for the consent, within <see cref="ConsentStatementGrace"/>.</summary>
    public static readonly TimeSpan ConsentRecheck = TimeSpan.FromMinutes(1);

    public static SendVerdict Evaluate(CustomerProfile? profile, string channel, MessageClass messageClass, DateTimeOffset now)
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

        // A Kakao ad goes to the phone number: it takes the SMS consent (no shop platform reports a Kakao one).
        var medium = channel == ChannelNames.Email ? Consent.ConsentMedia.Email : Consent.ConsentMedia.Sms;
        if (profile.Consent.Of(medium))
        {
            return SendVerdict.Go;
        }

        if (profile.ConsentStatedAtFor(medium) is null && profile.SignedUpAt is { } signedUp && now < signedUp + ConsentStatementGrace)
        {
            var graceEnds = signedUp + ConsentStatementGrace;
            return SendVerdict.WaitUntil(now + ConsentRecheck < graceEnds ? now + ConsentRecheck : graceEnds, $"waiting for the shop's word on {channel} marketing consent");
        }

        return SendVerdict.Block($"no {channel} marketing consent");
    }
}
