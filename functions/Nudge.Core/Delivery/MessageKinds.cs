namespace Nudge.Core.Delivery;

/// <summary>What actually goes out on the wire. Stored in the delivery log and returned by the preview: wire contracts.</summary>
public static class MessageKinds
{
    public const string Sms = "sms";
    public const string Lms = "lms";
    public const string AlimTalk = "alimtalk";
    public const string Brand = "brand";
    public const string Email = "email";

    /// <summary>SMS body limit in EUC-KR bytes.</summary>
    public const int SmsMaxBytes = 90;

    /// <summary>LMS body limit in EUC-KR bytes.</summary>
    public const int LmsMaxBytes = 2000;

    /// <summary>LMS subject limit in EUC-KR bytes.</summary>
    public const int LmsSubjectMaxBytes = 40;

    /// <summary>Kakao AlimTalk and Brand Message text limit in characters.</summary>
    public const int KakaoMaxChars = 1000;
}
