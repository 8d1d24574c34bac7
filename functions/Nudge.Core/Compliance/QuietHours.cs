using Nudge.Core.Delivery;

namespace Nudge.Core.Compliance;

/// <summary>
/// When an ad may go out. Korean law (Information and Communications Network Act art. 50(3)) forbids ads
/// 21:00–08:00 without separate night consent; email is exempt. Kakao's own policy is stricter
/// (20:50–08:00) and no consent lifts it. Informational and transactional messages are not restricted.
/// </summary>
public static class QuietHours
{
    private static readonly TimeOnly MorningEnd = new(8, 0);
    private static readonly TimeOnly NightStart = new(21, 0);
    private static readonly TimeOnly KakaoNightStart = new(20, 50);

    /// <summary>The earliest instant at or after <paramref name="at"/> when the message may be sent.</summary>
    public static DateTimeOffset NextAllowed(string channel, MessageClass messageClass, DateTimeOffset at, TimeZoneInfo zone, bool nightConsent)
    {
        if (messageClass != MessageClass.Ad || channel == ChannelNames.Email)
        {
            return at;
        }

        var nightStart = channel == ChannelNames.Kakao ? KakaoNightStart : NightStart;
        if (channel != ChannelNames.Kakao && nightConsent)
        {
            return at;
        }

        var local = TimeZoneInfo.ConvertTime(at, zone);
        var time = TimeOnly.FromDateTime(local.DateTime);
        if (time >= MorningEnd && time < nightStart)
        {
            return at;
        }

        var morningDate = time >= nightStart ? DateOnly.FromDateTime(local.DateTime).AddDays(1) : DateOnly.FromDateTime(local.DateTime);
        var morningLocal = morningDate.ToDateTime(MorningEnd, DateTimeKind.Unspecified);
        return new DateTimeOffset(morningLocal, zone.GetUtcOffset(morningLocal));
    }
}
