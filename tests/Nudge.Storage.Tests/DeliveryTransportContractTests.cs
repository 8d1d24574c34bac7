using System.Diagnostics;
using Azure.Identity;
using Azure.Messaging.ServiceBus;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.ServiceBus;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>
/// One contract for the delivery transport port (<see cref="IDeliveryQueue"/> and <see cref="IDeliveryDeadLetterSource"/>),
/// run against every adapter that can run here: Storage queues on Azurite, and the in-memory transport handlers'
/// tests use. Service Bus runs it only where NUDGE_TEST_SERVICEBUS_NAMESPACE names a namespace with empty
/// delivery-email/-sms/-kakao queues the signed-in identity may send to and receive from (there is no emulator here).
/// </summary>
public sealed class DeliveryTransportContractTests
{
    public const string ServiceBusNamespaceVariable = "NUDGE_TEST_SERVICEBUS_NAMESPACE";

    /// <summary>Virtual seconds per real second: a virtual hour is a real second.</summary>
    private const double ClockSpeed = 3600;

    public static TheoryData<string> Transports()
    {
        var transports = new TheoryData<string> { "storage", "in-memory" };
        if (!string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(ServiceBusNamespaceVariable)))
        {
            transports.Add("servicebus");
        }

        return transports;
    }

    private static async Task<ITransportUnderTest> StartAsync(string transport)
    {
        var clock = new VirtualClock(TimeProvider.System, new ClockAnchor(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow, ClockSpeed));
        return transport switch
        {
            "storage" => await StorageTransport.StartAsync(clock),
            "in-memory" => new InMemoryTransport(clock),
            "servicebus" => new ServiceBusTransport(clock, Environment.GetEnvironmentVariable(ServiceBusNamespaceVariable)!),
            _ => throw new ArgumentOutOfRangeException(nameof(transport)),
        };
    }

    private static DeliveryMessage NewMessage() =>
        new("shopify", "c-" + Guid.NewGuid().ToString("N")[..8], "d-" + Guid.NewGuid().ToString("N"),
            new DeliveryOrder("welcome", 1, ChannelNames.Email, "welcome-coupon", MessageClass.Ad, DateTimeOffset.UtcNow),
            TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");

    [Theory, MemberData(nameof(Transports))]
    public async Task Enqueue_AtOnce_IsTakenAsSent(string transport)
    {
        await using var t = await StartAsync(transport);
        var message = NewMessage();

        await t.Queue.EnqueueDeliveryAsync(ChannelNames.Email, message, null, CancellationToken.None);
        var taken = await TestStorage.EventuallyAsync(() => t.TakeAsync(ChannelNames.Email), m => m is not null, TimeSpan.FromSeconds(30), "the delivery");

        Assert.Equal(message, taken);
        Assert.Null(await t.TakeAsync(ChannelNames.Sms));
    }

    [Theory, MemberData(nameof(Transports))]
    public async Task Enqueue_NotBefore_IsHeldUntilItIsDue(string transport)
    {
        await using var t = await StartAsync(transport);
        var message = NewMessage();
        var watch = Stopwatch.StartNew();

        // Four virtual hours: four real seconds at this clock speed.
        await t.Queue.EnqueueDeliveryAsync(ChannelNames.Sms, message, t.Clock.GetUtcNow().AddHours(4), CancellationToken.None);
        var early = await t.TakeAsync(ChannelNames.Sms);
        var taken = await TestStorage.EventuallyAsync(() => t.TakeAsync(ChannelNames.Sms), m => m is not null, TimeSpan.FromSeconds(60), "the deferred delivery");

        Assert.Null(early);
        Assert.Equal(message, taken);
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(3), $"taken after {watch.Elapsed.TotalSeconds:0.0} s, before it was due");
    }

    [Theory, MemberData(nameof(Transports))]
    public async Task Replay_DeadLetter_IsHandedOnOnceAndLeaves(string transport)
    {
        await using var t = await StartAsync(transport);
        var message = NewMessage();
        await t.DeadLetterAsync(ChannelNames.Kakao, Body(message));

        var first = new List<DeliveryMessage>();
        var replayed = await t.DeadLetters.ReplayAsync(ChannelNames.Kakao, 10, Collect(first), CancellationToken.None);
        var again = await t.DeadLetters.ReplayAsync(ChannelNames.Kakao, 10, Collect([]), CancellationToken.None);

        Assert.Equal((1, 0), (replayed, again));
        Assert.Equal(message, Assert.Single(first));
        Assert.Equal(0, await t.DeadLetterCountAsync(ChannelNames.Kakao));
    }

    [Theory, MemberData(nameof(Transports))]
    public async Task Replay_Max_HandsOnNoMoreThanAsked(string transport)
    {
        await using var t = await StartAsync(transport);
        for (var i = 0; i < 3; i++)
        {
            await t.DeadLetterAsync(ChannelNames.Email, Body(NewMessage()));
        }

        var handed = new List<DeliveryMessage>();
        var replayed = await t.DeadLetters.ReplayAsync(ChannelNames.Email, 2, Collect(handed), CancellationToken.None);

        Assert.Equal((2, 2), (replayed, handed.Count));
        Assert.Equal(1, await t.DeadLetterCountAsync(ChannelNames.Email));
    }

    [Theory, MemberData(nameof(Transports))]
    public async Task Replay_NotADeliveryMessage_StaysForAPerson(string transport)
    {
        await using var t = await StartAsync(transport);
        await t.DeadLetterAsync(ChannelNames.Email, BinaryData.FromString("{\"not\":\"a delivery\"}"));
        await t.DeadLetterAsync(ChannelNames.Email, BinaryData.FromString("plain text"));

        var handed = new List<DeliveryMessage>();
        var replayed = await t.DeadLetters.ReplayAsync(ChannelNames.Email, 10, Collect(handed), CancellationToken.None);

        Assert.Equal(0, replayed);
        Assert.Empty(handed);
        Assert.Equal(2, await t.DeadLetterCountAsync(ChannelNames.Email));
    }

    [Theory, MemberData(nameof(Transports))]
    public async Task Replay_HandingOnFails_TheDeadLetterStays(string transport)
    {
        await using var t = await StartAsync(transport);
        await t.DeadLetterAsync(ChannelNames.Sms, Body(NewMessage()));

        await Assert.ThrowsAsync<IOException>(() =>
            t.DeadLetters.ReplayAsync(ChannelNames.Sms, 10, (_, _) => throw new IOException("the queue is down"), CancellationToken.None));

        Assert.Equal(1, await t.DeadLetterCountAsync(ChannelNames.Sms));
    }

    private static BinaryData Body(DeliveryMessage message) =>
        BinaryData.FromBytes(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(message, Core.NudgeJson.Options));

    private static Func<DeliveryMessage, CancellationToken, Task> Collect(List<DeliveryMessage> into) =>
        (message, _) =>
        {
            into.Add(message);
            return Task.CompletedTask;
        };

    /// <summary>An adapter under the contract, and how the test reaches its queues from the consumer's side.</summary>
    private interface ITransportUnderTest : IAsyncDisposable
    {
        VirtualClock Clock { get; }
        IDeliveryQueue Queue { get; }
        IDeliveryDeadLetterSource DeadLetters { get; }

        /// <summary>Takes one due message off the channel's queue, as its trigger would; null when none is due.</summary>
        Task<DeliveryMessage?> TakeAsync(string channel);

        /// <summary>Puts a body where the transport keeps its dead letters, as its trigger would after the last attempt.</summary>
        Task DeadLetterAsync(string channel, BinaryData body);

        Task<int> DeadLetterCountAsync(string channel);
    }

    private sealed class StorageTransport(VirtualClock clock, StorageClients clients, StorageNames names) : ITransportUnderTest
    {
        public static async Task<StorageTransport> StartAsync(VirtualClock clock)
        {
            var clients = TestStorage.Clients();
            var names = new StorageNames(TestStorage.NewPrefix());
            await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
            return new StorageTransport(clock, clients, names);
        }

        public VirtualClock Clock => clock;
        public IDeliveryQueue Queue { get; } = new StorageWorkQueue(clients.Queues, names, clock);
        public IDeliveryDeadLetterSource DeadLetters { get; } = new StorageDeadLetters(clients.Queues, names);

        public async Task<DeliveryMessage?> TakeAsync(string channel)
        {
            var queue = clients.Queues.GetQueueClient(names.DeliveryQueue(channel));
            if ((await queue.ReceiveMessageAsync()).Value is not { } message)
            {
                return null;
            }

            await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            return DeliveryMessage.TryParse(message.Body.ToMemory().Span);
        }

        public Task DeadLetterAsync(string channel, BinaryData body) =>
            Poison(channel).SendMessageAsync(body, TimeSpan.Zero, TimeSpan.FromSeconds(-1));

        public async Task<int> DeadLetterCountAsync(string channel) => (await Poison(channel).GetPropertiesAsync()).Value.ApproximateMessagesCount;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;

        private Azure.Storage.Queues.QueueClient Poison(string channel) =>
            clients.Queues.GetQueueClient(StorageNames.PoisonOf(names.DeliveryQueue(channel)));
    }

    private sealed class InMemoryTransport(VirtualClock clock) : ITransportUnderTest
    {
        private readonly InMemoryDeliveryTransport _transport = new(clock);

        public VirtualClock Clock => clock;
        public IDeliveryQueue Queue => _transport;
        public IDeliveryDeadLetterSource DeadLetters => _transport;

        public Task<DeliveryMessage?> TakeAsync(string channel) => Task.FromResult(_transport.TryTakeDue(channel)?.Message);

        public Task DeadLetterAsync(string channel, BinaryData body)
        {
            _transport.DeadLetter(channel, body);
            return Task.CompletedTask;
        }

        public Task<int> DeadLetterCountAsync(string channel) => Task.FromResult(_transport.DeadLetterCount(channel));

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>A real namespace (not verified here: no emulator); dead letters made as the trigger's namespace makes them.</summary>
    private sealed class ServiceBusTransport(VirtualClock clock, string fullyQualifiedNamespace) : ITransportUnderTest
    {
        private readonly ServiceBusClient _client = new(fullyQualifiedNamespace, new DefaultAzureCredential());
        private ServiceBusDeliveryQueue? _queue;

        public VirtualClock Clock => clock;
        public IDeliveryQueue Queue => _queue ??= new ServiceBusDeliveryQueue(_client, clock);
        public IDeliveryDeadLetterSource DeadLetters => new ServiceBusDeadLetters(_client);

        public async Task<DeliveryMessage?> TakeAsync(string channel)
        {
            await using var receiver = _client.CreateReceiver(ServiceBusDeliveryMessages.QueueName(channel));
            if (await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(1)) is not { } message)
            {
                return null;
            }

            await receiver.CompleteMessageAsync(message);
            return DeliveryMessage.TryParse(message.Body.ToMemory().Span);
        }

        public async Task DeadLetterAsync(string channel, BinaryData body)
        {
            await using var sender = _client.CreateSender(ServiceBusDeliveryMessages.QueueName(channel));
            await sender.SendMessageAsync(new ServiceBusMessage(body) { MessageId = Guid.NewGuid().ToString("N") });
            await using var receiver = _client.CreateReceiver(ServiceBusDeliveryMessages.QueueName(channel));
            var received = await receiver.ReceiveMessageAsync(TimeSpan.FromSeconds(30)) ?? throw new TimeoutException("the message to dead-letter");
            await receiver.DeadLetterMessageAsync(received, "MaxDeliveryCountExceeded", "made by the contract test");
        }

        public async Task<int> DeadLetterCountAsync(string channel)
        {
            await using var receiver = _client.CreateReceiver(ServiceBusDeliveryMessages.QueueName(channel), new ServiceBusReceiverOptions { SubQueue = SubQueue.DeadLetter });
            return (await receiver.PeekMessagesAsync(100)).Count;
        }

        public async ValueTask DisposeAsync()
        {
            if (_queue is not null)
            {
                await _queue.DisposeAsync();
            }

            await _client.DisposeAsync();
        }
    }
}
