namespace Nudge.Core.Compliance;

/// <summary>
/// Who the customer sees as the sender of an ad, and how they opt out for free: the Information and Communications
/// Network Act requires both in every ad (art. 50(4)), with <c>(광고)</c> at the very start.
/// </summary>
public sealed record SenderIdentity(string Name, string OptOutNumber);

/// <summary>The ad labels per medium, in one place so that a Kakao fallback to SMS carries exactly the SMS labels.</summary>
public static class AdLabels
{
    public const string Prefix = "(광고)";

    /// <summary>SMS/LMS ad: <c>(광고)Sender</c> first, <c>무료수신거부 080-…</c> last.</summary>
    public static string ForSms(string text, SenderIdentity sender) =>
        $"{Prefix}{sender.Name}\n{StripPrefix(text)}\n무료수신거부 {sender.OptOutNumber}";

    /// <summary>Kakao Brand Message ad: the label and sender first; opting out is blocking the channel, which is free.</summary>
    public static string ForKakao(string text, SenderIdentity sender) =>
        $"{Prefix}{sender.Name}\n{StripPrefix(text)}\n수신거부: 채널 홈 > 채널 차단";

    /// <summary>Ad email: <c>(광고)</c> leads the subject.</summary>
    public static string ForEmailSubject(string subject) => $"{Prefix} {StripPrefix(subject)}";

    /// <summary>Ad email footer: sender and a one-click unsubscribe link (the List-Unsubscribe header carries the same URL).</summary>
    public static string EmailTextFooter(SenderIdentity sender, string unsubscribeUrl) =>
        $"\n\n--\n{sender.Name} · 수신을 원하지 않으시면 여기에서 무료로 수신거부하세요: {unsubscribeUrl}";

    public static string EmailHtmlFooter(SenderIdentity sender, string unsubscribeUrl) =>
        $"<hr><p style=\"font-size:12px;color:#666\">{System.Net.WebUtility.HtmlEncode(sender.Name)} · 수신을 원하지 않으시면 " +
        $"<a href=\"{System.Net.WebUtility.HtmlEncode(unsubscribeUrl)}\">무료 수신거부</a>를 눌러 주세요.</p>";

    public static bool HasPrefix(string text) => text.TrimStart().StartsWith(Prefix, StringComparison.Ordinal);

    private static string StripPrefix(string text) => HasPrefix(text) ? text.TrimStart()[Prefix.Length..].TrimStart() : text;
}
