using System.Text.Json;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Nudge.App.Functions;
using Nudge.App.Hosting;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.ServiceBus;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.App.Tests;

/// <summary>
/// The Service Bus channel senders and the decision where they run. The function is fed what the namespace would
/// deliver (a <see cref="ServiceBusModelFactory"/> message built from what the adapter sends) and runs the app's own
/// delivery handler over Azurite. Locally they never run: Storage queues are the local transport.
/// </summary>
public sealed class ServiceBusDeliveryFunctionTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private ServiceBusDeliveryFunctions Functions() =>
        new(_app.Services.GetRequiredService<DeliveryHandler>(), NullLogger<ServiceBusDeliveryFunctions>.Instance);

    private async Task<DeliveryMessage> ReceiptForNewCustomerAsync(string customerId)
    {
        var clock = _app.Services.GetRequiredService<VirtualClock>();
        await _app.Services.GetRequiredService<ProfileUpdater>().ApplyAsync(new CustomerEvent
        {
            EventId = $"shopify-signup-{customerId}",
            Customer = new CustomerKey("shopify", customerId),
            Type = EventTypes.CustomerSignedUp,
            OccurredAt = clock.GetUtcNow(),
            ShopDomain = "test-shop.myshopify.com",
            Contact = new ContactFacts("sb@example.com", "+821012345678", "Minji", new MarketingConsent(true, true, false), clock.GetUtcNow()),
        }, CancellationToken.None);
        return new DeliveryMessage("shopify", customerId, $"order-confirmed-{customerId}",
            new DeliveryOrder("order-confirmed", 0, ChannelNames.Email, "order-confirmed", MessageClass.Transactional, clock.GetUtcNow()));
    }

    /// <summary>What the namespace delivers for a message the adapter sent; the host hands the function its body.</summary>
    private static ServiceBusReceivedMessage Received(ServiceBusMessage sent, int deliveryCount) =>
        ServiceBusModelFactory.ServiceBusReceivedMessage(body: sent.Body, messageId: sent.MessageId, contentType: sent.ContentType,
            subject: sent.Subject, deliveryCount: deliveryCount, sequenceNumber: 1);

    [Fact]
    public async Task DeliverAsync_FirstSendAndARedeliveredCopy_SendsOnce()
    {
        var message = await ReceiptForNewCustomerAsync("sb-7201");
        var sent = ServiceBusDeliveryMessages.ForDelivery(ChannelNames.Email, message);

        var first = await Functions().DeliverAsync(ChannelNames.Email, Received(sent, 1).Body.ToString(), CancellationToken.None);
        var copy = await Functions().DeliverAsync(ChannelNames.Email, Received(sent, 2).Body.ToString(), CancellationToken.None);
        var row = await _app.Services.GetRequiredService<IDeliveryLog>().GetAsync(message.Customer, message.DeliveryId, CancellationToken.None);

        Assert.Equal((DeliveryHandling.Sent, DeliveryHandling.AlreadyDone), (first, copy));
        Assert.Equal((DeliveryStatus.Sent, 1), (row!.Value.Status, row.Value.Attempts));
    }

    [Fact]
    public async Task DeliverAsync_UnreadableBody_Throws_SoTheNamespaceRetriesThenDeadLettersIt()
    {
        var functions = Functions();

        await Assert.ThrowsAnyAsync<JsonException>(() => functions.DeliverAsync(ChannelNames.Sms, "plain text", CancellationToken.None));
        await Assert.ThrowsAsync<InvalidDataException>(() => functions.DeliverAsync(ChannelNames.Sms, "null", CancellationToken.None));
    }

    [Fact]
    public void LocallyFired_ServiceBusTriggers_AreLeftOutAndTheStorageSendersRun()
    {
        var withServiceBus = FunctionCatalog.Of(typeof(ServiceBusSenderSample).Assembly);
        var sample = Assert.Single(withServiceBus.ServiceBusQueues);
        var localDefault = LocalTriggerDriver.LocallyFired(FunctionCatalog.Default).Select(f => f.Name).ToList();

        Assert.Equal(("SampleServiceBusSender", "delivery-email", DeliveryTransportOptions.ServiceBusConnection), (sample.Name, sample.QueueName, sample.Connection));
        Assert.DoesNotContain(sample, LocalTriggerDriver.LocallyFired(withServiceBus));
        Assert.Subset(localDefault.ToHashSet(), new HashSet<string> { "EmailSender", "SmsSender", "KakaoSender" });
        Assert.Empty(FunctionCatalog.Default.ServiceBusQueues); // this build has no Service Bus triggers (Nudge.App.csproj)
    }

    [Fact]
    public async Task Start_LocallyWithServiceBus_RefusesWithTheReason()
    {
        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            NudgeTestApp.StartAsync(settings: new Dictionary<string, string?> { ["Nudge:Delivery:Transport"] = "servicebus" }));

        Assert.Contains("runs only under the Functions host", refused.Message);
    }

    [Theory]
    [InlineData("servicebus", "this build has no Service Bus triggers")]
    [InlineData("rabbitmq", "must be 'storage' or 'servicebus'")]
    public void Add_UnderTheHost_TransportThatCannotDeliver_RefusesWithTheReason(string transport, string reason)
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nudge:Delivery:Transport"] = transport,
            ["ServiceBusConnection:fullyQualifiedNamespace"] = "nudge-test.servicebus.windows.net",
        }).Build();

        var refused = Assert.Throws<OptionsValidationException>(() => DeliveryTransport.Add(new ServiceCollection(), settings, underFunctionsHost: true, FunctionCatalog.Default));

        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public async Task Add_UnderTheHostWithServiceBusTriggers_QueuesOnServiceBusAndReplaysBothDeadLetterPlaces()
    {
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nudge:Delivery:Transport"] = "ServiceBus",
            ["ServiceBusConnection:fullyQualifiedNamespace"] = "nudge-test.servicebus.windows.net",
            ["ServiceBusConnection:credential"] = "managedidentity",
            ["ServiceBusConnection:clientId"] = "00000000-0000-0000-0000-000000000001",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(TestStorage.Clients().Queues);
        services.AddSingleton(new StorageNames(TestStorage.NewPrefix()));
        services.AddSingleton(new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, 1)));

        DeliveryTransport.Add(services, settings, underFunctionsHost: true, FunctionCatalog.Of(typeof(ServiceBusSenderSample).Assembly));
        await using var provider = services.BuildServiceProvider();

        Assert.IsType<ServiceBusDeliveryQueue>(provider.GetRequiredService<IDeliveryQueue>());
        Assert.Equal([typeof(StorageDeadLetters), typeof(ServiceBusDeadLetters)], provider.GetServices<IDeliveryDeadLetterSource>().Select(s => s.GetType()));
        Assert.Equal("nudge-test.servicebus.windows.net", provider.GetRequiredService<ServiceBusClient>().FullyQualifiedNamespace);
    }
}

/// <summary>A Service Bus sender as the app declares them in a build with Service Bus triggers.</summary>
public sealed class ServiceBusSenderSample
{
    [Function("SampleServiceBusSender")]
    public Task RunAsync([ServiceBusTrigger("delivery-email", Connection = DeliveryTransportOptions.ServiceBusConnection, IsBatched = false)] string message) => Task.CompletedTask;
}
