using Nudge.Core.Compliance;

namespace Nudge.Core.Delivery;

/// <summary>What a template rendered to, before labels and limits.</summary>
public sealed record MessageDraft(string Channel, MessageClass Class, string Text, string? Subject = null, string? Html = null);

/// <summary>The SMS/LMS a Kakao message falls back to for a customer Kakao cannot reach.</summary>
public sealed record SmsPart(string Kind, string Text, string? Subject, int Bytes);

/// <summary>The final message, labels applied: exactly what a provider receives.</summary>
public sealed record ComposedMessage(string Kind, string Text, string? Subject, string? Html, SmsPart? Sms, IReadOnlyList<string> Warnings)
{
    /// <summary>EUC-KR bytes of the SMS/LMS body that goes out (the message itself or its Kakao fallback); 0 for email.</summary>
    public int Bytes => Sms?.Bytes ?? 0;
}

/// <summary>Either a message that may go out, or the reason it cannot be sent at all.</summary>
public sealed record Composition(ComposedMessage? Message, string? Rejection)
{
    public static Composition Reject(string reason) => new(null, reason);
}

/// <summary>
/// Applies the Korean labelling rules and the carriers' limits: <c>(광고)</c>, sender and free opt-out on ads,
/// SMS up to 90 EUC-KR bytes, LMS up to 2,000 (subject 40), AlimTalk for non-ads and Brand Message for ads on
/// Kakao, each with an SMS/LMS fallback that carries the same labels. Pure: the preview and the workers share it.
/// </summary>
public static class MessageComposer
{
    public static Composition Compose(MessageDraft draft, SenderIdentity sender, string unsubscribeUrl)
    {
        var warnings = new List<string>();
        var isAd = draft.Class == MessageClass.Ad;
        if (isAd && AdLabels.HasPrefix(draft.Text))
        {
            warnings.Add("The text already starts with (광고): the label is added automatically, so it was not repeated.");
        }
        else if (!isAd && draft.Text.Contains(AdLabels.Prefix, StringComparison.Ordinal))
        {
            warnings.Add($"The text contains (광고) but the class is '{draft.Class.ToString().ToLowerInvariant()}': advertising must be sent as class 'ad'.");
        }

        if (string.IsNullOrWhiteSpace(draft.Text))
        {
            return Composition.Reject("The text is empty.");
        }

        return draft.Channel switch
        {
            ChannelNames.Email => ComposeEmail(draft, sender, unsubscribeUrl, warnings),
            ChannelNames.Sms => ComposeSms(draft, sender, warnings) switch
            {
                { Part: { } part } => new Composition(new ComposedMessage(part.Kind, part.Text, part.Subject, null, part, warnings), null),
                var rejected => Composition.Reject(rejected.Rejection!),
            },
            ChannelNames.Kakao => ComposeKakao(draft, sender, warnings),
            _ => Composition.Reject($"Unknown channel '{draft.Channel}': use email, sms or kakao."),
        };
    }

    private static Composition ComposeEmail(MessageDraft draft, SenderIdentity sender, string unsubscribeUrl, List<string> warnings)
    {
        if (string.IsNullOrWhiteSpace(draft.Subject))
        {
            return Composition.Reject("An email needs a subject.");
        }

        if (draft.Class != MessageClass.Ad)
        {
            return new Composition(new ComposedMessage(MessageKinds.Email, draft.Text, draft.Subject, draft.Html, null, warnings), null);
        }

        var text = draft.Text + AdLabels.EmailTextFooter(sender, unsubscribeUrl);
        var html = draft.Html is null ? null : draft.Html + AdLabels.EmailHtmlFooter(sender, unsubscribeUrl);
        return new Composition(new ComposedMessage(MessageKinds.Email, text, AdLabels.ForEmailSubject(draft.Subject), html, null, warnings), null);
    }

    private sealed record SmsResult(SmsPart? Part, string? Rejection);

    private static SmsResult ComposeSms(MessageDraft draft, SenderIdentity sender, List<string> warnings)
    {
        var text = draft.Class == MessageClass.Ad ? AdLabels.ForSms(draft.Text, sender) : draft.Text;
        if (EucKr.FirstUnencodable(text) is { } bad)
        {
            return new SmsResult(null, $"The text contains '{bad}' (U+{char.ConvertToUtf32(bad, 0):X4}), which SMS/LMS cannot carry (EUC-KR): remove it or replace it.");
        }

        var bytes = EucKr.ByteCount(text)!.Value;
        if (bytes > MessageKinds.LmsMaxBytes)
        {
            return new SmsResult(null, $"The text is {bytes} EUC-KR bytes with its labels; LMS allows at most {MessageKinds.LmsMaxBytes}.");
        }

        var subject = string.IsNullOrWhiteSpace(draft.Subject) ? null : draft.Subject.Trim();
        if (bytes <= MessageKinds.SmsMaxBytes)
        {
            if (subject is not null)
            {
                warnings.Add("The text fits an SMS, which has no subject: the subject is not sent.");
            }

            return new SmsResult(new SmsPart(MessageKinds.Sms, text, null, bytes), null);
        }

        if (subject is not null)
        {
            if (EucKr.FirstUnencodable(subject) is { } badSubject)
            {
                return new SmsResult(null, $"The subject contains '{badSubject}', which LMS cannot carry (EUC-KR).");
            }

            var subjectBytes = EucKr.ByteCount(subject)!.Value;
            if (subjectBytes > MessageKinds.LmsSubjectMaxBytes)
            {
                return new SmsResult(null, $"The subject is {subjectBytes} EUC-KR bytes; LMS allows at most {MessageKinds.LmsSubjectMaxBytes}.");
            }
        }

        warnings.Add($"The text is {bytes} EUC-KR bytes with its labels, over the SMS limit of {MessageKinds.SmsMaxBytes}: it goes out as LMS, which costs more.");
        return new SmsResult(new SmsPart(MessageKinds.Lms, text, subject, bytes), null);
    }

    private static Composition ComposeKakao(MessageDraft draft, SenderIdentity sender, List<string> warnings)
    {
        var isAd = draft.Class == MessageClass.Ad;
        var text = isAd ? AdLabels.ForKakao(draft.Text, sender) : draft.Text;
        if (text.Length > MessageKinds.KakaoMaxChars)
        {
            return Composition.Reject($"The text is {text.Length} characters with its labels; Kakao allows at most {MessageKinds.KakaoMaxChars}.");
        }

        if (isAd)
        {
            warnings.Add("An ad on Kakao goes out as a Brand Message, which reaches only friends of the channel; others get the SMS/LMS fallback.");
        }

        // The fallback is composed from the same draft on the SMS rules, so it carries the SMS ad labels.
        var fallback = ComposeSms(draft with { Channel = ChannelNames.Sms }, sender, warnings);
        if (fallback.Part is null)
        {
            return Composition.Reject($"The SMS/LMS fallback cannot be sent: {fallback.Rejection}");
        }

        return new Composition(new ComposedMessage(isAd ? MessageKinds.Brand : MessageKinds.AlimTalk, text, draft.Subject, null, fallback.Part, warnings), null);
    }
}
