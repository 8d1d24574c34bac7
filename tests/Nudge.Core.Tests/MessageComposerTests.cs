using Nudge.Core.Compliance;
using Nudge.Core.Delivery;

namespace Nudge.Core.Tests;

public class MessageComposerTests
{
    private static readonly SenderIdentity Sender = new("넛지샵", "080-123-4567");
    private const string Unsubscribe = "https://shop.example/api/unsubscribe?t=abc";

    [Theory]
    [InlineData("hello", 5)]
    [InlineData("안녕하세요", 10)]
    [InlineData("쿠폰 10% OFF", 12)]
    [InlineData("", 0)]
    public void ByteCount_HangulIsTwoBytesLatinOne(string text, int expected) =>
        Assert.Equal(expected, EucKr.ByteCount(text));

    [Theory]
    [InlineData("쿠폰 🎁 받으세요", "🎁")]
    [InlineData("😀", "😀")]
    [InlineData("똠방각하", "똠")] // a syllable outside KS X 1001's 2,350
    public void ByteCount_CharacterEucKrCannotCarry_IsNullAndNamed(string text, string bad)
    {
        Assert.Null(EucKr.ByteCount(text));
        Assert.Equal(bad, EucKr.FirstUnencodable(text));
    }

    [Fact]
    public void Compose_SmsAd_AddsPrefixSenderAndFreeOptOut()
    {
        var composed = Compose(ChannelNames.Sms, MessageClass.Ad, "가입 쿠폰이 곧 끝나요");

        Assert.Equal("(광고)넛지샵\n가입 쿠폰이 곧 끝나요\n무료수신거부 080-123-4567", composed.Text);
        Assert.Equal(MessageKinds.Sms, composed.Kind);
        Assert.Equal(EucKr.ByteCount(composed.Text), composed.Bytes);
    }

    [Fact]
    public void Compose_SmsInformational_HasNoLabels()
    {
        var composed = Compose(ChannelNames.Sms, MessageClass.Informational, "주문하신 상품이 출발했어요");

        Assert.Equal("주문하신 상품이 출발했어요", composed.Text);
        Assert.Equal(26, composed.Bytes);
    }

    [Fact]
    public void Compose_TextAlreadyLabelled_DoesNotRepeatPrefixAndWarns()
    {
        var composed = Compose(ChannelNames.Sms, MessageClass.Ad, "(광고) 쿠폰");

        Assert.StartsWith("(광고)넛지샵\n쿠폰", composed.Text);
        Assert.Equal(2, composed.Text.Split("(광고)").Length);
        Assert.Contains(composed.Warnings, w => w.Contains("already starts"));
    }

    [Fact]
    public void Compose_SmsAtExactly90Bytes_IsSmsAnd91IsLms()
    {
        // Informational: no labels, so the text is the body. 45 Hangul syllables = 90 bytes.
        var ninety = new string('가', 45);
        Assert.Equal((MessageKinds.Sms, 90), Kind(Compose(ChannelNames.Sms, MessageClass.Informational, ninety)));
        Assert.Equal((MessageKinds.Lms, 91), Kind(Compose(ChannelNames.Sms, MessageClass.Informational, ninety + "a")));
    }

    [Fact]
    public void Compose_LabelsPushAdOverSmsLimit_BecomesLmsWithWarning()
    {
        var composed = Compose(ChannelNames.Sms, MessageClass.Ad, new string('가', 30)); // 60 bytes + labels

        Assert.Equal(MessageKinds.Lms, composed.Kind);
        Assert.Contains(composed.Warnings, w => w.Contains("LMS"));
    }

    [Fact]
    public void Compose_Over2000Bytes_IsRejected()
    {
        var result = MessageComposer.Compose(new MessageDraft(ChannelNames.Sms, MessageClass.Informational, new string('가', 1001)), Sender, Unsubscribe);

        Assert.Null(result.Message);
        Assert.Contains("2002 EUC-KR bytes", result.Rejection);
    }

    [Fact]
    public void Compose_Emoji_IsRejectedForSmsAndKakaoFallbackButFineInEmail()
    {
        Assert.Contains("🎁", MessageComposer.Compose(new MessageDraft(ChannelNames.Sms, MessageClass.Ad, "선물 🎁"), Sender, Unsubscribe).Rejection);
        Assert.Contains("fallback", MessageComposer.Compose(new MessageDraft(ChannelNames.Kakao, MessageClass.Informational, "선물 🎁"), Sender, Unsubscribe).Rejection);
        Assert.NotNull(MessageComposer.Compose(new MessageDraft(ChannelNames.Email, MessageClass.Ad, "선물 🎁", "선물"), Sender, Unsubscribe).Message);
    }

    [Fact]
    public void Compose_LmsSubjectOver40Bytes_IsRejected()
    {
        var result = MessageComposer.Compose(new MessageDraft(ChannelNames.Sms, MessageClass.Informational, new string('가', 60), new string('제', 21)), Sender, Unsubscribe);

        Assert.Contains("subject is 42 EUC-KR bytes", result.Rejection);
    }

    [Fact]
    public void Compose_EmailAd_LabelsSubjectAndAddsUnsubscribeFooter()
    {
        var composed = MessageComposer.Compose(new MessageDraft(ChannelNames.Email, MessageClass.Ad, "환영해요", "쿠폰 도착", "<p>환영해요</p>"), Sender, Unsubscribe).Message!;

        Assert.Equal("(광고) 쿠폰 도착", composed.Subject);
        Assert.Contains(Unsubscribe, composed.Text);
        Assert.Contains("넛지샵", composed.Text);
        Assert.Contains("https://shop.example/api/unsubscribe?t=abc", composed.Html);
        Assert.Equal(0, composed.Bytes);
    }

    [Fact]
    public void Compose_KakaoAd_IsBrandMessageWithSmsLabelledFallback()
    {
        var composed = Compose(ChannelNames.Kakao, MessageClass.Ad, "주말 특가");

        Assert.Equal(MessageKinds.Brand, composed.Kind);
        Assert.StartsWith("(광고)넛지샵", composed.Text);
        Assert.Equal("(광고)넛지샵\n주말 특가\n무료수신거부 080-123-4567", composed.Sms!.Text);
        Assert.Equal(composed.Sms.Bytes, composed.Bytes);
    }

    [Fact]
    public void Compose_KakaoInformational_IsAlimTalkWithUnlabelledFallback()
    {
        var composed = Compose(ChannelNames.Kakao, MessageClass.Transactional, "주문이 접수되었습니다");

        Assert.Equal(MessageKinds.AlimTalk, composed.Kind);
        Assert.Equal("주문이 접수되었습니다", composed.Sms!.Text);
    }

    private static ComposedMessage Compose(string channel, MessageClass messageClass, string text)
    {
        var result = MessageComposer.Compose(new MessageDraft(channel, messageClass, text), Sender, Unsubscribe);
        Assert.Null(result.Rejection);
        return result.Message!;
    }

    private static (string, int) Kind(ComposedMessage message) => (message.Kind, message.Bytes);
}
