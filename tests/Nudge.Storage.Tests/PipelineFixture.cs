using Microsoft.Extensions.Time.Testing;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Testing;

namespace Nudge.Storage.Tests;

/// <summary>The real storage adapters on Azurite, under a fresh name prefix, with virtual time at speed 1 on a fake clock.</summary>
public sealed class Pipeline
{
    public static readonly TimeZoneInfo Seoul = TimeZoneInfo.FindSystemTimeZoneById("Asia/Seoul");

    /// <summary>A weekday 10:00 in Seoul: inside the daytime window.</summary>
    public static readonly DateTimeOffset Morning = new(2026, 11, 24, 10, 0, 0, TimeSpan.FromHours(9));

    private Pipeline(StorageClients clients, StorageNames names, FakeTimeProvider time, CrossJourneyRules? rules, IMarketingJourneyLedger? marketingLedger)
    {
        Clients = clients;
        Names = names;
        Time = time;
        Clock = new VirtualClock(time, new ClockAnchor(time.GetUtcNow(), time.GetUtcNow(), 1));
        Events = new TableEventStore(clients.Tables, names, Clock);
        Profiles = new TableProfileStore(clients.Tables, names);
        Instances = new TableJourneyInstanceStore(clients.Tables, names);
        Deliveries = new TableDeliveryLog(clients.Tables, names);
        Queue = new StorageWorkQueue(clients.Queues, names, Clock);
        Settings = new PipelineSettings(Seoul, rules);
        Sender = new CountingSink();
        CapLedger = new TableFrequencyCapLedger(clients.Tables, names);
        DeliveryHandler = new DeliveryHandler(Deliveries, Profiles, Sender, Queue, Settings, Clock, capLedger: CapLedger);
        Definitions = new TableJourneyDefinitionStore(clients.Tables, names);
        Library = new JourneyLibrary(Definitions, Instances, Clock);
        var recentSends = new RecentSends(Instances, Settings, Clock);
        Segments = new SegmentLibrary(new TableSegmentStore(clients.Tables, names));
        ConsentLedger = new TableConsentLedger(clients.Tables, names);
        ProfileUpdater = new ProfileUpdater(Profiles, ConsentLedger);
        Effects = new InstanceEffects(Instances, Profiles, Queue, recentSends, Library, Settings);
        MarketingLedger = marketingLedger ?? new TableMarketingJourneyLedger(clients.Tables, names);
        Starter = new JourneyStarter(Instances, Effects, MarketingLedger, Clock);
        EventHandler = new JourneyEventHandler(Events, ProfileUpdater, Starter, Library, Instances, recentSends, Segments, Settings, Clock);
        Runtime = new InMemoryJourneyRuntime(Effects, Clock);
        Schedules = new ScheduledEntryHandler(Profiles, Instances, Starter, recentSends, Library, new TableScheduleCursor(clients.Tables, names), Segments, Settings, Clock);
    }

    public ScheduledEntryHandler Schedules { get; }
    public SegmentLibrary Segments { get; }

    public TableJourneyDefinitionStore Definitions { get; }
    public JourneyLibrary Library { get; }
    public JourneyEventHandler EventHandler { get; }
    public TableConsentLedger ConsentLedger { get; }
    public InstanceEffects Effects { get; }

    /// <summary>The journey runtime the handlers hand runs to: in memory, timers fired by <see cref="InMemoryJourneyRuntime.FireDueTimersAsync"/>.</summary>
    public InMemoryJourneyRuntime Runtime { get; }

    public StorageClients Clients { get; }
    public StorageNames Names { get; }
    public FakeTimeProvider Time { get; }
    public VirtualClock Clock { get; }
    public TableEventStore Events { get; }
    public TableProfileStore Profiles { get; }
    public TableJourneyInstanceStore Instances { get; }
    public TableDeliveryLog Deliveries { get; }
    public StorageWorkQueue Queue { get; }
    public PipelineSettings Settings { get; }
    public JourneyStarter Starter { get; }
    public ProfileUpdater ProfileUpdater { get; }
    public CountingSink Sender { get; }
    public TableFrequencyCapLedger CapLedger { get; }

    /// <summary>The starts' ledger under a limit on concurrent marketing journeys: the table unless the test gave another.</summary>
    public IMarketingJourneyLedger MarketingLedger { get; }
    public DeliveryHandler DeliveryHandler { get; }

    public static async Task<Pipeline> CreateAsync(
        DateTimeOffset? now = null, CrossJourneyRules? rules = null, Azure.Core.Pipeline.HttpPipelinePolicy? observer = null, IMarketingJourneyLedger? marketingLedger = null)
    {
        var clients = TestStorage.Clients(observer);
        var names = new StorageNames(TestStorage.NewPrefix());
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var pipeline = new Pipeline(clients, names, new FakeTimeProvider(now ?? Morning), rules, marketingLedger);
        await pipeline.Library.SeedAsync(JourneyCatalog.OnByDefault, CancellationToken.None);
        return pipeline;
    }

    public async Task<int> VisibleMessagesAsync(string queue)
    {
        var messages = await Clients.Queues.GetQueueClient(Names.Queue(queue)).PeekMessagesAsync(32);
        return messages.Value.Length;
    }

    private static DeliveryMessage Read(BinaryData body) =>
        System.Text.Json.JsonSerializer.Deserialize<DeliveryMessage>(body.ToString(), Core.NudgeJson.Options)!;

    /// <summary>The delivery messages waiting (visible) in a channel's queue.</summary>
    public async Task<IReadOnlyList<DeliveryMessage>> QueuedDeliveriesAsync(string channel) =>
        (await Clients.Queues.GetQueueClient(Names.DeliveryQueue(channel)).PeekMessagesAsync(32)).Value
            .Select(m => Read(m.Body))
            .ToList();

    /// <summary>What the journeys decided to send to a customer and handed to the delivery queues, in order of time.</summary>
    public async Task<IReadOnlyList<DeliveryOrder>> DecidedSendsAsync(CustomerKey customer)
    {
        var queued = new List<DeliveryMessage>();
        foreach (var channel in new[] { ChannelNames.Email, ChannelNames.Sms, ChannelNames.Kakao })
        {
            queued.AddRange(await QueuedDeliveriesAsync(channel));
        }

        return queued.Where(m => m.Customer == customer).Select(m => m.Order!).OrderBy(o => o.ScheduledFor).ToList();
    }

    /// <summary>Hands every visible message of a delivery queue to the delivery worker, as the trigger would.</summary>
    public async Task<IReadOnlyList<DeliveryHandling>> DrainDeliveriesAsync(string channel)
    {
        var client = Clients.Queues.GetQueueClient(Names.DeliveryQueue(channel));
        var outcomes = new List<DeliveryHandling>();
        foreach (var message in (await client.ReceiveMessagesAsync(32)).Value)
        {
            var delivery = Read(message.Body);
            outcomes.Add(await DeliveryHandler.HandleAsync(delivery, CancellationToken.None));
            await client.DeleteMessageAsync(message.MessageId, message.PopReceipt);
        }

        return outcomes;
    }

    public async Task<int> AllMessagesAsync(string queue) =>
        (await Clients.Queues.GetQueueClient(Names.Queue(queue)).GetPropertiesAsync()).Value.ApproximateMessagesCount;

    public static CustomerEvent Signup(string customerId, bool smsConsent = true, DateTimeOffset? updatedAt = null, string? email = "a@example.com") => new()
    {
        EventId = $"shopify-signup-{customerId}",
        Customer = new CustomerKey("shopify", customerId),
        Type = EventTypes.CustomerSignedUp,
        OccurredAt = Morning,
        ShopDomain = "demo.myshopify.com",
        Contact = new ContactFacts(email, "+821012345678", "Minji", new MarketingConsent(true, smsConsent, false), updatedAt ?? Morning),
    };

    public CustomerContext Context(CustomerProfile? profile) => CustomerContexts.For(profile, Seoul);
}

/// <summary>The local sink's behaviour (always delivers) with a count of calls, to prove nothing is sent twice.</summary>
public sealed class CountingSink : IChannelSender
{
    private int _calls;

    public int Calls => _calls;

    public Task<SendOutcome> SendAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return Task.FromResult(new SendOutcome(true, $"local:{message.DeliveryId}", null));
    }
}
