using Nudge.Core.Pipeline;

namespace Nudge.App.Delivery;

/// <summary>
/// The local sink: messages go no further than the delivery log, which the worker updates after this returns.
/// It stands where a real provider (ACS Email, an SMS or Kakao gateway) will be configured.
/// </summary>
public sealed partial class LocalSinkSender(ILogger<LocalSinkSender> logger) : IChannelSender
{
    public Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        LogSunk(message.Channel, message.Template, message.DeliveryId);
        return Task.FromResult(new SendOutcome(true, $"local:{message.DeliveryId}", null));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Local sink: {Channel} '{Template}' delivered as {DeliveryId}")]
    private partial void LogSunk(string channel, string template, string deliveryId);
}
