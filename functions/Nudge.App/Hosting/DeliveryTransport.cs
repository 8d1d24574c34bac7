using Azure.Messaging.ServiceBus;
using Microsoft.Extensions.Options;
using Nudge.Core.Pipeline;
using Nudge.ServiceBus;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>
/// Bound from section <c>Nudge:Delivery</c> (<c>Nudge__Delivery__Transport</c>, set by the Bicep from its
/// <c>deliveryTransport</c> parameter): which transport carries channel deliveries.
/// </summary>
public sealed class DeliveryTransportOptions
{
    public const string Section = "Nudge:Delivery";

    public const string StorageQueues = "storage";
    public const string ServiceBus = "servicebus";

    /// <summary>The identity-based connection the Service Bus triggers and the sender use (<c>ServiceBusConnection__fullyQualifiedNamespace</c>).</summary>
    public const string ServiceBusConnection = "ServiceBusConnection";

    /// <summary><c>storage</c> (the default, and the only transport of the local run) or <c>servicebus</c>.</summary>
    public string Transport { get; set; } = StorageQueues;
}

/// <summary>
/// The delivery transport's side of the composition root. Storage queues: the delivery queues and their poison
/// queues in the app's storage account. Service Bus: a namespace with one queue per channel and their dead-letter
/// queues. Either way the same <see cref="DeliveryHandler"/> runs behind the transport's trigger functions; the
/// other transport's functions are disabled by app settings in Azure (infra/main.bicep) and never fired locally
/// (<see cref="LocalTriggerDriver"/>).
/// </summary>
public static class DeliveryTransport
{
    public static void Add(IServiceCollection services, IConfiguration configuration, bool underFunctionsHost, FunctionCatalog catalog)
    {
        var transport = (configuration[$"{DeliveryTransportOptions.Section}:{nameof(DeliveryTransportOptions.Transport)}"] is { Length: > 0 } set ? set : DeliveryTransportOptions.StorageQueues).ToLowerInvariant();
        // The poison queue takes the deliveries the handler gives up on, on either transport (the Service Bus trigger
        // cannot dead-letter a message itself with the extension served here), so the replay always reads it.
        services.AddSingleton<StorageDeadLetters>();
        services.AddSingleton<IDeliveryDeadLetters>(sp => sp.GetRequiredService<StorageDeadLetters>());
        services.AddSingleton<IDeliveryDeadLetterSource>(sp => sp.GetRequiredService<StorageDeadLetters>());
        services.AddSingleton<DeliveryReplayHandler>();
        switch (transport)
        {
            case DeliveryTransportOptions.StorageQueues:
                services.AddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
                return;
            case DeliveryTransportOptions.ServiceBus when !underFunctionsHost:
                throw Invalid("Nudge:Delivery:Transport 'servicebus' runs only under the Functions host: the local run fires Storage queue triggers only "
                    + "(there is no Service Bus emulator here), so nothing would send the deliveries. Use 'storage' locally.");
            case DeliveryTransportOptions.ServiceBus when !catalog.ServiceBusQueues.Any():
                throw Invalid("Nudge:Delivery:Transport is 'servicebus' but this build has no Service Bus triggers, so nothing would send the deliveries: "
                    + "build the app with NUDGE_DELIVERY_TRANSPORT=servicebus (or -p:NudgeServiceBusTriggers=true).");
            case DeliveryTransportOptions.ServiceBus:
                var section = configuration.GetSection(DeliveryTransportOptions.ServiceBusConnection);
                var fullyQualifiedNamespace = section["fullyQualifiedNamespace"] is { Length: > 0 } ns ? ns
                    : throw Invalid($"Nudge:Delivery:Transport 'servicebus' needs {DeliveryTransportOptions.ServiceBusConnection}__fullyQualifiedNamespace (identity-based; no connection strings).");
                services.AddSingleton(_ => new ServiceBusClient(fullyQualifiedNamespace, StorageClients.CredentialFor(section)));
                services.AddSingleton<ServiceBusDeliveryQueue>();
                services.AddSingleton<IDeliveryQueue>(sp => sp.GetRequiredService<ServiceBusDeliveryQueue>());
                services.AddSingleton<IDeliveryDeadLetterSource, ServiceBusDeadLetters>();
                return;
            default:
                throw Invalid($"Nudge:Delivery:Transport must be '{DeliveryTransportOptions.StorageQueues}' or '{DeliveryTransportOptions.ServiceBus}'; got '{transport}'.");
        }
    }

    private static OptionsValidationException Invalid(string message) =>
        new(DeliveryTransportOptions.Section, typeof(DeliveryTransportOptions), [message]);
}
