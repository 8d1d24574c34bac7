namespace Nudge.Storage;

/// <summary>Table, queue and container names. Persisted names are wire contracts: never rename them.</summary>
public sealed class StorageNames(string prefix)
{
    public const string JourneyEventsQueue = "journey-events";
    public const string DeliveryQueuePrefix = "delivery-";
    public const string PrivacyRequestsQueue = "privacy-requests";
    public const string PriceDropsQueue = "price-drops";
    public const string IngestBatchesQueue = "ingest-batches";
    public const string ImportsQueue = "imports";
    public const string AudienceSlicesQueue = "audience-slices";

    /// <summary>Every queue the pipeline's own functions consume (the channel delivery queues aside).</summary>
    public static IReadOnlyList<string> PipelineQueues { get; } = [IngestBatchesQueue, JourneyEventsQueue, PrivacyRequestsQueue, PriceDropsQueue, ImportsQueue, AudienceSlicesQueue];

    /// <summary>Where the Functions host (and the local trigger driver) moves a message after its last failed attempt.</summary>
    public static string PoisonOf(string queueName) => queueName + "-poison";

    public string Prefix { get; } = prefix;

    public string Profiles => Table("profiles");
    public string Events => Table("events");
    public string Instances => Table("journeyinstances");
    public string Deliveries => Table("deliveries");
    public string Settings => Table("settings");
    public string Journeys => Table("journeys");
    public string JourneyVersions => Table("journeyversions");
    public string Segments => Table("segments");
    public string PrivacyAudit => Table("privacyaudit");
    public string Catalog => Table("catalog");
    public string OrderIndex => Table("orderindex");
    public string ProductInterest => Table("productinterest");
    public string RawPayloads => Container("raw-webhooks");
    public string Suppressions => Table("suppressions");
    public string Consents => Table("consentledger");
    public string RateLimits => Table("ratelimits");
    public string FrequencyCaps => Table("frequencycaps");
    public string MarketingAdmissions => Table("marketingadmissions");
    public string DeliveryEvents => Table("deliveryevents");
    public string Results => Table("journeyresults");
    public string Imports => Table("imports");
    public string ImportFiles => Container("imports");
    public string Recommendations => Container("recommendations");
    public string AudienceRuns => Table("audienceruns");

    public IReadOnlyList<string> AllTables =>
    [
        Profiles, Events, Instances, Deliveries, Settings, Journeys, JourneyVersions, Segments, PrivacyAudit, Catalog, OrderIndex, ProductInterest,
        Suppressions, Consents, RateLimits, FrequencyCaps, MarketingAdmissions, DeliveryEvents, Results, Imports, AudienceRuns,
    ];

    /// <summary>Table names allow letters and digits only.</summary>
    public string Table(string name) => new string((Prefix + name).Where(char.IsAsciiLetterOrDigit).ToArray());

    /// <summary>Queue and container names allow lowercase letters, digits and dashes.</summary>
    public string Queue(string name) => Prefix.Length == 0 ? name : $"{Prefix.ToLowerInvariant()}-{name}";

    public string Container(string name) => Queue(name);

    public string DeliveryQueue(string channel) => Queue(DeliveryQueuePrefix + channel);
}
