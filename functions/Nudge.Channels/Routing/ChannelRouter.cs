using Nudge.Channels.Providers;
using Nudge.Channels.Templates;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Recommendations;

namespace Nudge.Channels.Routing;

/// <summary>A provider with its rate throttle and circuit breaker.</summary>
public sealed record ProviderLane<TProvider>(TProvider Provider, ProviderThrottle? Throttle, CircuitBreaker Breaker) where TProvider : IProvider;

/// <summary>The providers chosen by settings, in failover order per channel.</summary>
public sealed record ProviderLanes(
    IReadOnlyList<ProviderLane<IEmailProvider>> Email,
    IReadOnlyList<ProviderLane<ISmsProvider>> Sms,
    ProviderLane<IKakaoProvider>? Kakao);

/// <summary>
/// The real <see cref="IChannelSender"/>: renders and labels the message, then hands it to the first provider of
/// its channel whose circuit is closed and whose rate allows it, failing over to the next on a transient error.
/// Kakao goes out as AlimTalk or Brand Message and falls back to SMS/LMS (with the SMS labels) for a customer
/// Kakao cannot reach, and the outcome tells the worker what it learnt about that customer's Kakao reachability.
/// </summary>
public sealed class ChannelRouter(MessageBuilder builder, ProviderLanes lanes, TimeProvider clock, CustomerRecommendations? recommendations = null) : IChannelSender
{
    public async Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var built = await builder.BuildAsync(message, recommendations, cancellationToken);
        if (built.Message is not { } ready)
        {
            return SendOutcome.Rejected($"cannot be sent: {built.Rejection}");
        }

        var composed = ready.Message;
        switch (message.Channel)
        {
            case ChannelNames.Email:
                var headers = new Dictionary<string, string>
                {
                    // RFC 8058 one-click unsubscribe: mail clients POST "List-Unsubscribe=One-Click" to the URL.
                    ["List-Unsubscribe"] = $"<{ready.UnsubscribeUrl}>",
                    ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
                };
                var email = new EmailRequest(message.DeliveryId, message.Recipient.Email!, composed.Subject!, composed.Text, composed.Html, headers);
                return await SendThroughAsync(lanes.Email, message, MessageKinds.Email, (p, ct) => p.SendAsync(email, ct), cancellationToken);

            case ChannelNames.Sms:
                return await SendSmsAsync(message, composed.Sms!, cancellationToken);

            case ChannelNames.Kakao:
                return await SendKakaoAsync(message, ready, cancellationToken);

            default:
                return SendOutcome.Rejected($"unknown channel '{message.Channel}'");
        }
    }

    private Task<SendOutcome> SendSmsAsync(OutboundMessage message, SmsPart sms, CancellationToken cancellationToken)
    {
        var request = new SmsRequest(message.DeliveryId, message.Recipient.Phone!, sms.Kind, sms.Text, sms.Subject, message.ScheduledFor);
        return SendThroughAsync(lanes.Sms, message, sms.Kind, (p, ct) => p.SendAsync(request, ct), cancellationToken);
    }

    private async Task<SendOutcome> SendKakaoAsync(OutboundMessage message, BuiltMessage ready, CancellationToken cancellationToken)
    {
        var composed = ready.Message;
        if (lanes.Kakao is null || message.Recipient.KakaoReachable == false)
        {
            // Known not to be reachable on Kakao (or no Kakao provider): straight to SMS/LMS.
            return await SendSmsAsync(message, composed.Sms!, cancellationToken) with { ReachableOnKakao = message.Recipient.KakaoReachable };
        }

        if (composed.Kind == MessageKinds.AlimTalk && ready.KakaoTemplateCode is null)
        {
            return SendOutcome.Rejected("AlimTalk needs a template code that Kakao approved; the template has none");
        }

        var request = new KakaoRequest(message.DeliveryId, message.Recipient.Phone!, composed.Kind, composed.Text, ready.KakaoTemplateCode, ready.Variables);
        ProviderResult? notOnKakao = null;
        var outcome = await SendThroughAsync([lanes.Kakao], message, composed.Kind, async (p, ct) =>
        {
            var result = await p.SendAsync(request, ct);
            notOnKakao = result.Status == ProviderStatus.NotOnKakao ? result : null;
            return result;
        }, cancellationToken);

        if (notOnKakao is not null)
        {
            // Not a friend / not on Kakao: the same message as SMS/LMS, carrying the SMS ad labels.
            return await SendSmsAsync(message, composed.Sms!, cancellationToken) with { ReachableOnKakao = false };
        }

        return outcome.Sent ? outcome with { ReachableOnKakao = true } : outcome;
    }

    private async Task<SendOutcome> SendThroughAsync<TProvider>(
        IReadOnlyList<ProviderLane<TProvider>> chain,
        OutboundMessage message,
        string kind,
        Func<TProvider, CancellationToken, Task<ProviderResult>> send,
        CancellationToken cancellationToken)
        where TProvider : IProvider
    {
        if (chain.Count == 0)
        {
            return SendOutcome.Rejected($"no {message.Channel} provider is configured");
        }

        DateTimeOffset? comeBack = null;
        string? lastFailure = null;
        var calledAndFailed = false;
        if (message.MaybeSentVia is { } via)
        {
            // An earlier attempt may have sent it through that provider: only it may be asked again, and only under the key.
            chain = chain.Where(l => l.Provider.Name == via && l.Provider.DedupesByKey).ToList();
            if (chain.Count == 0)
            {
                return new SendOutcome(false, null, $"an earlier attempt may have sent it through {via}, which cannot dedupe: not sent again")
                {
                    Unconfirmed = true, Provider = via, Kind = kind,
                };
            }
        }

        foreach (var lane in chain)
        {
            var name = lane.Provider.Name;
            if (message.Resumed && !lane.Provider.DedupesByKey)
            {
                return new SendOutcome(false, null, $"an earlier attempt was interrupted after calling {name}, which cannot dedupe: not sent again")
                {
                    Unconfirmed = true, Provider = name, Kind = kind,
                };
            }

            if (lane.Breaker.OpenUntil is { } openUntil)
            {
                comeBack = Earliest(comeBack, openUntil);
                lastFailure ??= $"{name}: circuit open";
                continue;
            }

            if (lane.Throttle is not null && await lane.Throttle.AcquireAsync(cancellationToken) is { } freeAt)
            {
                // A real-time slot mapped onto the worker's clock (exact at clock speed 1).
                comeBack = Earliest(comeBack, clock.GetUtcNow() + (freeAt - DateTimeOffset.UtcNow));
                lastFailure ??= $"{name}: rate limit reached, next slot {freeAt:O}";
                continue;
            }

            var result = await send(lane.Provider, cancellationToken);
            var outcome = result.Status switch
            {
                ProviderStatus.Accepted => new SendOutcome(true, result.MessageId, null),
                ProviderStatus.NotOnKakao => new SendOutcome(false, result.MessageId, result.Reason),
                ProviderStatus.InvalidRecipient => new SendOutcome(false, result.MessageId, result.Reason) { Permanent = true, InvalidRecipient = true },
                ProviderStatus.Permanent => new SendOutcome(false, result.MessageId, result.Reason) { Permanent = true },
                _ => null,
            };
            if (outcome is not null)
            {
                lane.Breaker.Success();
                return outcome with { Kind = kind, Provider = name };
            }

            lastFailure = result.Reason;
            if (result.MayHaveSent)
            {
                // No failover: the next provider does not know our key and could send it a second time.
                lane.Breaker.Failure();
                return SendOutcome.Failed($"{name}: {result.Reason}") with { Kind = kind, Provider = name, MaybeSentVia = name };
            }

            if (result.RetryAfter is { } after)
            {
                // Throttled by the provider (429 with Retry-After): nothing was sent and nothing is broken.
                comeBack = Earliest(comeBack, clock.GetUtcNow() + after);
            }
            else
            {
                lane.Breaker.Failure();
                calledAndFailed = true;
            }
        }

        // A provider that failed counts as an attempt (retried with backoff); only waiting re-queues for free.
        return !calledAndFailed && comeBack is { } at
            ? SendOutcome.Later(at, lastFailure!) with { Kind = kind }
            : SendOutcome.Failed(lastFailure ?? "no provider took the message") with { Kind = kind };
    }

    private static DateTimeOffset Earliest(DateTimeOffset? a, DateTimeOffset b) => a is { } x && x < b ? x : b;
}
