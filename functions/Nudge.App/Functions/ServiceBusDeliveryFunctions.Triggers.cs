using Microsoft.Azure.Functions.Worker;
using Nudge.App.Hosting;
using Nudge.Core.Delivery;
using Nudge.ServiceBus;

namespace Nudge.App.Functions;

// Built with -p:NudgeServiceBusTriggers=true only (see Nudge.App.csproj): the Service Bus triggers of the channel senders.
public sealed partial class ServiceBusDeliveryFunctions
{
    private const string Connection = DeliveryTransportOptions.ServiceBusConnection;

    // IsBatched is set although false is the default: the 5.7 attribute declares no default value, and the Worker
    // SDK's metadata generator fails without one.
    [Function("EmailSenderServiceBus")]
    public Task EmailSenderAsync([ServiceBusTrigger(ServiceBusDeliveryMessages.DeliveryQueuePrefix + ChannelNames.Email, Connection = Connection, IsBatched = false)] string message, CancellationToken ct) =>
        DeliverAsync(ChannelNames.Email, message, ct);

    [Function("SmsSenderServiceBus")]
    public Task SmsSenderAsync([ServiceBusTrigger(ServiceBusDeliveryMessages.DeliveryQueuePrefix + ChannelNames.Sms, Connection = Connection, IsBatched = false)] string message, CancellationToken ct) =>
        DeliverAsync(ChannelNames.Sms, message, ct);

    [Function("KakaoSenderServiceBus")]
    public Task KakaoSenderAsync([ServiceBusTrigger(ServiceBusDeliveryMessages.DeliveryQueuePrefix + ChannelNames.Kakao, Connection = Connection, IsBatched = false)] string message, CancellationToken ct) =>
        DeliverAsync(ChannelNames.Kakao, message, ct);
}
