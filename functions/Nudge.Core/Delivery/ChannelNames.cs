namespace Nudge.Core.Delivery;

/// <summary>Channel names are wire contracts: queue names, delivery rows and journey definitions use them.</summary>
public static class ChannelNames
{
    public const string Email = "email";
    public const string Sms = "sms";
    public const string Kakao = "kakao";

    public static IReadOnlyList<string> All { get; } = [Email, Sms, Kakao];

    public static bool IsKnown(string channel) => All.Contains(channel);
}
