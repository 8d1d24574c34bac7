using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Channels.Templates;
using Nudge.Core.Pipeline;
using Nudge.Core.Recommendations;

namespace Nudge.App.Delivery;

/// <summary>
/// The local sink: messages go no further than the delivery log, which the worker updates after this returns.
/// It stands where a real provider (ACS Email, an SMS or Kakao gateway) will be configured. With
/// <see cref="NudgeOptions.LocalOutbox"/> set (the local run sets it) it also renders each message as a provider would get it and
/// writes it to that folder, one file per delivery (<c>&lt;template&gt;-&lt;delivery id&gt;.txt</c>, written again
/// alike on a retry), so a walk-through can read what was sent. Never in Azure: it holds personal data in clear.
/// </summary>
public sealed partial class LocalSinkSender(ILogger<LocalSinkSender> logger, IOptions<NudgeOptions> options, IServiceProvider services) : IChannelSender
{
    public async Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        if (options.Value.LocalOutbox is { Length: > 0 } outbox)
        {
            // Resolved only here: without an outbox the sink needs no channel settings at all.
            var built = await services.GetRequiredService<MessageBuilder>().BuildAsync(message, services.GetService<CustomerRecommendations>(), cancellationToken);
            if (built.Message is not { } ready)
            {
                return SendOutcome.Rejected($"cannot be sent: {built.Rejection}");
            }

            Directory.CreateDirectory(outbox);
            var composed = ready.Message;
            var (subject, body) = message.Channel == Core.Delivery.ChannelNames.Sms ? (composed.Sms!.Subject, composed.Sms.Text) : (composed.Subject, composed.Text);
            var text = $"channel: {message.Channel} ({composed.Kind})\ntemplate: {message.Template}\nsubject: {subject}\n\n{body}\n";
            await File.WriteAllTextAsync(Path.Combine(outbox, $"{message.Template}-{message.DeliveryId}.txt"), text, cancellationToken);
        }

        LogSunk(message.Channel, message.Template, message.DeliveryId);
        return new SendOutcome(true, $"local:{message.DeliveryId}", null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local sink: {Channel} '{Template}' delivered as {DeliveryId}")]
    private partial void LogSunk(string channel, string template, string deliveryId);
}
