using System.Globalization;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Journeys;

namespace Nudge.Core.Pipeline;

/// <summary>Settings the pipeline needs from the shop: the time zone of customers who have none, and cross-journey rules.</summary>
public sealed record PipelineSettings(TimeZoneInfo DefaultTimeZone, CrossJourneyRules? Rules = null)
{
    public CrossJourneyRules CrossJourney => Rules ?? CrossJourneyRules.None;
}

public enum EventHandling
{
    Processed,

    /// <summary>The message names an event that is not stored; nothing to do.</summary>
    EventMissing,
}

/// <summary>
/// Folds an accepted event into the profile, hands it to the customer's running instances (goals, waits for
/// events) and starts the journeys it enters.
/// </summary>
public sealed class JourneyEventHandler(
    IEventStore events, ProfileUpdater profiles, JourneyStarter starter, IJourneyCatalog catalog, IJourneyInstanceStore instances, RecentSends recentSends,
    SegmentLibrary segments, PipelineSettings settings, TimeProvider clock, Results.ConversionRecorder? conversions = null,
    Recommendations.RecommendationModel? recommendations = null)
{
    /// <param name="runtime">Where the instances run: the event goes to the running ones that wait for it, and the journeys it enters start there.</param>
    public async Task<EventHandling> HandleAsync(JourneyEventMessage message, IJourneyRuntime runtime, CancellationToken cancellationToken)
    {
        var evt = await events.GetAsync(message.Customer, message.EventId, cancellationToken);
        if (evt is null)
        {
            return EventHandling.EventMissing;
        }

        var (before, profile) = await profiles.ApplyWithPreviousAsync(evt, cancellationToken);
        if (recommendations is not null)
        {
            await recommendations.LearnAsync(evt, cancellationToken);
        }

        var allSegments = await segments.AllAsync(cancellationToken);
        var evaluatedAt = new EvaluationTime(clock.GetUtcNow(), CustomerContexts.ZoneOf(profile, settings.DefaultTimeZone));
        var membersBefore = SegmentLibrary.Memberships(allSegments, before, evaluatedAt);
        var membersAfter = SegmentLibrary.Memberships(allSegments, profile, evaluatedAt);
        var eventFacts = await WithProductViewsAsync(evt, CustomerFacts.OfEvent(evt, profile), cancellationToken);

        var listed = new List<JourneyInstance>();
        var running = new List<JourneyInstance>();
        var occupiedSlots = new HashSet<string>(StringComparer.Ordinal);
        // A customer without a profile until now has no instances: they start only after the profile is saved, and an
        // erasure deletes the profile last. (A start still fails safely on a slot that turns out to be taken.)
        var instancesOfCustomer = before is null ? AsyncEnumerable.Empty<JourneyInstance>() : instances.ListForCustomerAsync(evt.Customer, cancellationToken);
        await foreach (var instance in instancesOfCustomer)
        {
            listed.Add(instance);
            occupiedSlots.Add(instance.Slot);
            // The event that started an instance is not also news to it (a redelivery would otherwise end it at once).
            if (!instance.IsEnded && instance.EntryEventId != evt.EventId)
            {
                running.Add(instance);
            }
        }

        if (conversions is not null)
        {
            // Conversions count for ended instances too (a goal ends the instance it is news to): all that were listed.
            await conversions.RecordAsync(listed, evt, eventFacts, evaluatedAt.Zone, cancellationToken);
        }

        // Every decision sees the sends of the ones before it in this handling, so caps hold across journeys.
        var latest = listed.ToDictionary(i => i.Slot, StringComparer.Ordinal);
        var sends = recentSends.Of(latest.Values, clock.GetUtcNow());
        void Saved(JourneyInstance instance)
        {
            latest[instance.Slot] = instance;
            sends = recentSends.Of(latest.Values, clock.GetUtcNow());
        }

        var context = WithSegments(CustomerContexts.For(profile, settings, sends), membersAfter);
        foreach (var instance in running.Where(i => JourneyInterpreter.Awaits(i.Definition, evt.Type)))
        {
            var key = CustomerFacts.BusinessKey(instance.Definition, eventFacts);
            await runtime.RaiseAsync(instance, new JourneyNews(evt.Type, evt.EventId, key, eventFacts, context), cancellationToken);
        }

        // Highest priority first, so a cap on concurrent marketing journeys keeps the ones that matter most. (Starts
        // for the customer made at the same time elsewhere are settled by the starter's ledger: the first admitted wins.)
        var activeMarketing = running.Count(i => i.Definition.IsMarketing);
        foreach (var journey in (await catalog.ActiveAsync(cancellationToken)).OrderByDescending(j => j.Priority))
        {
            var entersSegment = journey.Entry.Segment is { } segment
                && membersAfter.GetValueOrDefault($"segment.{segment}") == "true" && membersBefore.GetValueOrDefault($"segment.{segment}") != "true";
            if (journey.Entry.Event != evt.Type && !entersSegment)
            {
                continue;
            }

            var facts = CustomerFacts.Merge(context.CustomerFacts, eventFacts);
            if (journey.Entry.Filter is { } filter && !filter.Evaluate(facts, evaluatedAt))
            {
                continue;
            }

            var key = CustomerFacts.BusinessKey(journey, eventFacts);
            if (journey.Entry.BusinessKey is not null && key is null)
            {
                continue; // a keyed journey cannot start without its key
            }

            if (JourneyInterpreter.RefusedEntry(journey, context, activeMarketing) is not null)
            {
                continue;
            }

            var knownAbsent = !occupiedSlots.Contains(JourneyInstance.SlotFor(journey.Id, key));
            if (await starter.StartAsync(runtime, journey, evt.Customer, context with { RecentSends = sends }, new EntryTrigger(evt.EventId, key, eventFacts), cancellationToken, knownAbsent, Saved) == RunOutcome.Started
                && journey.IsMarketing)
            {
                activeMarketing++;
            }
        }

        return EventHandling.Processed;
    }

    /// <summary>Views of a product in the day up to one of them: <c>event.productViewsInDay</c> (browse abandonment enters on the second).</summary>
    public const string ProductViewsInDayFact = "event.productViewsInDay";

    /// <summary>
    /// A product view's facts gain <see cref="ProductViewsInDayFact"/>: the customer's stored views of its product in
    /// the 24 hours up to it (source time), itself included. Events are stored once by id, so a redelivered view is
    /// not counted twice.
    /// </summary>
    private async Task<IReadOnlyDictionary<string, string>> WithProductViewsAsync(CustomerEvent evt, IReadOnlyDictionary<string, string> facts, CancellationToken cancellationToken)
    {
        if (evt.Type != EventTypes.ProductViewed || evt.Items is not [var viewed, ..])
        {
            return facts;
        }

        var views = 0;
        await foreach (var other in events.ListForCustomerAsync(evt.Customer, [EventTypes.ProductViewed], cancellationToken))
        {
            if (other.OccurredAt <= evt.OccurredAt && other.OccurredAt > evt.OccurredAt - TimeSpan.FromDays(1) && other.Items?.Any(i => i.ProductId == viewed.ProductId) == true)
            {
                views++;
            }
        }

        return new Dictionary<string, string>(facts, StringComparer.Ordinal) { [ProductViewsInDayFact] = views.ToString(CultureInfo.InvariantCulture) };
    }

    private static CustomerContext WithSegments(CustomerContext context, IReadOnlyDictionary<string, string> memberships) =>
        memberships.Count == 0 ? context : context with { Facts = CustomerFacts.Merge(context.CustomerFacts, memberships) };
}

/// <summary>The shop's segments, cached briefly like the journey catalog, and membership of a profile in each.</summary>
public sealed class SegmentLibrary(ISegmentStore store)
{
    private readonly BriefCache<IReadOnlyList<Segment>> _cache = new(JourneyLibrary.CacheFor);

    public Task<IReadOnlyList<Segment>> AllAsync(CancellationToken cancellationToken) =>
        _cache.GetAsync(() => store.ListAsync(cancellationToken));

    public async Task SaveAsync(Segment segment, CancellationToken cancellationToken)
    {
        await store.SaveAsync(segment, cancellationToken);
        _cache.Invalidate();
    }

    /// <summary>Creates the given segments where none of that id exists; a marketer's edits are kept.</summary>
    public async Task SeedAsync(IEnumerable<Segment> segments, CancellationToken cancellationToken)
    {
        var existing = (await store.ListAsync(cancellationToken)).Select(s => s.Id).ToHashSet();
        foreach (var segment in segments.Where(s => !existing.Contains(s.Id)))
        {
            await store.SaveAsync(segment, cancellationToken);
        }

        _cache.Invalidate();
    }

    /// <summary><c>segment.&lt;id&gt;</c> → "true"/"false" for each segment, from the profile's facts at a moment; empty for no profile.</summary>
    public static IReadOnlyDictionary<string, string> Memberships(IReadOnlyList<Segment> segments, CustomerProfile? profile, EvaluationTime at)
    {
        if (profile is null || segments.Count == 0)
        {
            return new Dictionary<string, string>();
        }

        var facts = CustomerFacts.OfProfile(profile);
        return segments.ToDictionary(s => s.Fact, s => s.Condition.Evaluate(facts, at) ? "true" : "false");
    }
}

/// <summary>
/// Reads and writes profiles under optimistic concurrency. A change of consent a source reports on a known customer
/// goes into the consent ledger (who changed what, where and when) before the profile that carries it is saved: the
/// entries are stamped with the source's time, so writing them again changes nothing, and a crash between the two
/// writes leaves the ledger ahead (the redelivery saves the profile) rather than a withdrawal the ledger never saw.
/// The consent a signup brings is the shop's own record, made on its signup form: no entry.
/// </summary>
public sealed class ProfileUpdater(IProfileStore profiles, Consent.IConsentLedger? consentLedger = null)
{
    public async Task<CustomerProfile> ApplyAsync(CustomerEvent evt, CancellationToken cancellationToken) =>
        (await ApplyWithPreviousAsync(evt, cancellationToken)).After;

    /// <summary>The profile before and after the event, so segment entries can see who just entered.</summary>
    public async Task<(CustomerProfile? Before, CustomerProfile After)> ApplyWithPreviousAsync(CustomerEvent evt, CancellationToken cancellationToken)
    {
        // A signup usually meets no profile: try the insert first and save the read (a conflict falls back to read + write).
        return await FoldAsync(evt.Customer, current => ProfileUpdates.Apply(current, evt), cancellationToken,
            insertFirst: evt.Type == EventTypes.CustomerSignedUp, new ConsentSource($"{evt.Customer.Platform} {evt.Type}", evt.Contact?.UpdatedAt ?? evt.OccurredAt));
    }

    /// <summary>
    /// Folds anything into one profile under optimistic concurrency: read, fold, write if it changed. With
    /// <paramref name="insertFirst"/>, first tries to create the profile without a read (for customers likely new).
    /// A change of consent is recorded in the ledger as said by <paramref name="consentSource"/>.
    /// </summary>
    public async Task<(CustomerProfile? Before, CustomerProfile After)> FoldAsync(
        CustomerKey customer, Func<CustomerProfile?, CustomerProfile> fold, CancellationToken cancellationToken, bool insertFirst = false, ConsentSource? consentSource = null)
    {
        if (insertFirst)
        {
            var created = fold(null);
            if (await profiles.TrySaveAsync(created, null, cancellationToken))
            {
                return (null, created);
            }
        }

        return await OptimisticConcurrency.RetryAsync<(CustomerProfile?, CustomerProfile)>("The profile", async _ =>
        {
            var current = await profiles.GetAsync(customer, cancellationToken);
            var updated = fold(current?.Value);
            if (current is not null && updated == current.Value)
            {
                return Attempt.Done<(CustomerProfile?, CustomerProfile)>((current.Value, updated));
            }

            if (consentLedger is not null && consentSource is not null && current is not null)
            {
                foreach (var entry in Consent.ConsentRules.Changes(customer, current.Value.Consent, updated.Consent, consentSource.Source, consentSource.At))
                {
                    await consentLedger.AppendAsync(entry, cancellationToken);
                }
            }

            return await profiles.TrySaveAsync(updated, current?.Version, cancellationToken)
                ? Attempt.Done<(CustomerProfile?, CustomerProfile)>((current?.Value, updated))
                : Attempt.Lost;
        }, cancellationToken);
    }
}

/// <summary>Who reports a profile's facts, and as of when: the ledger's words for a change of consent they bring.</summary>
public sealed record ConsentSource(string Source, DateTimeOffset At);

public static class CustomerContexts
{
    public static CustomerContext For(CustomerProfile? profile, PipelineSettings settings, IReadOnlyList<RecentSend>? sends = null) =>
        For(profile, settings.DefaultTimeZone) with { Rules = settings.CrossJourney, RecentSends = sends };

    public static CustomerContext For(CustomerProfile? profile, TimeZoneInfo defaultZone) =>
        new(ZoneOf(profile, defaultZone), profile?.Consent.NightAds ?? false, profile?.LastEventAt, CustomerFacts.OfProfile(profile));

    /// <summary>The customer's own time zone when known and valid, else the shop's default.</summary>
    public static TimeZoneInfo ZoneOf(CustomerProfile? profile, TimeZoneInfo defaultZone) =>
        profile?.TimeZone is { } id && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone) ? zone : defaultZone;
}

/// <summary>The facts conditions can test: <c>profile.*</c> from the profile, <c>event.*</c> from an event.</summary>
public static class CustomerFacts
{
    public static IReadOnlyDictionary<string, string> OfProfile(CustomerProfile? profile)
    {
        var facts = new Dictionary<string, string>();
        if (profile is null)
        {
            return facts;
        }

        facts["profile.hasOrdered"] = Bool(profile.HasOrdered);
        facts["profile.ordersCount"] = profile.Orders.Count.ToString(CultureInfo.InvariantCulture);
        facts["profile.emailConsent"] = Bool(profile.Consent.Email);
        facts["profile.smsConsent"] = Bool(profile.Consent.Sms);
        facts["profile.nightConsent"] = Bool(profile.Consent.NightAds);
        facts["profile.hasEmail"] = Bool(!string.IsNullOrEmpty(profile.Email));
        facts["profile.hasPhone"] = Bool(!string.IsNullOrEmpty(profile.Phone));
        facts["profile.hasOpenCart"] = Bool(profile.HasOpenCart);
        Add(facts, "profile.signedUpAt", profile.SignedUpAt);
        Add(facts, "profile.firstOrderAt", profile.FirstOrderAt);
        Add(facts, "profile.lastOrderAt", profile.LastOrderAt);
        Add(facts, "profile.lastSeenAt", profile.LastSeenAt);
        Add(facts, "profile.lastLoginAt", profile.LastLoginAt);
        if (profile.PointsBalance is { } points)
        {
            facts["profile.points"] = points.ToString(CultureInfo.InvariantCulture);
        }

        if (profile.Cart?.Value is { } cartValue)
        {
            facts["profile.cartValue"] = cartValue.Amount.ToString(CultureInfo.InvariantCulture);
        }

        if (profile.ShopDomain is { } shop)
        {
            facts["profile.shop"] = shop;
        }

        return facts;
    }

    public static IReadOnlyDictionary<string, string> OfEvent(CustomerEvent evt, CustomerProfile? profile)
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["event.type"] = evt.Type,
            ["event.occurredAt"] = evt.OccurredAt.ToString("O", CultureInfo.InvariantCulture),
        };
        if (evt.SubjectId is { } subject)
        {
            facts["event.subjectId"] = subject;
        }

        if (evt.Value is { } value)
        {
            facts["event.value"] = value.Amount.ToString(CultureInfo.InvariantCulture);
            facts["event.currency"] = value.Currency;
        }

        if (evt.Items is { Count: > 0 } items)
        {
            facts["event.items"] = items.Count.ToString(CultureInfo.InvariantCulture);
            facts["event.productIds"] = string.Join(",", items.Select(i => i.ProductId));
        }

        if (evt.PointsBalance is { } balance)
        {
            facts["event.balance"] = balance.ToString(CultureInfo.InvariantCulture);
        }

        if (evt.Url is { } url)
        {
            facts["event.url"] = url;
        }

        // Named properties (a price drop's dropPercent, an events-API track call's own fields) never shadow the model's.
        foreach (var (name, property) in evt.Properties ?? new Dictionary<string, string>())
        {
            facts.TryAdd($"event.{name}", property);
        }

        if (evt.Type == EventTypes.OrderPlaced && profile?.FirstOrderAt is { } first)
        {
            facts["event.firstOrder"] = Bool(first >= evt.OccurredAt);
        }

        return facts;
    }

    /// <summary>The value of the journey's business-key property in an event's facts, if it has one.</summary>
    public static string? BusinessKey(JourneyDefinition journey, IReadOnlyDictionary<string, string> eventFacts) =>
        journey.Entry.BusinessKey is { } key && eventFacts.TryGetValue($"event.{key}", out var value) && value.Length > 0 ? value : null;

    public static IReadOnlyDictionary<string, string> Merge(IReadOnlyDictionary<string, string> first, IReadOnlyDictionary<string, string> second)
    {
        var merged = new Dictionary<string, string>(first);
        foreach (var (key, value) in second)
        {
            merged[key] = value;
        }

        return merged;
    }

    private static string Bool(bool value) => value ? "true" : "false";

    private static void Add(Dictionary<string, string> facts, string name, DateTimeOffset? value)
    {
        if (value is { } v)
        {
            facts[name] = v.ToString("O", CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>
/// The customer's sends that can count against frequency caps, from their journey instances, which record each send
/// when it is decided (a queued message counts before it goes out). Read only when caps are configured.
/// </summary>
public sealed class RecentSends(IJourneyInstanceStore instances, PipelineSettings settings, TimeProvider clock)
{
    public async Task<IReadOnlyList<RecentSend>> ForAsync(CustomerKey customer, CancellationToken cancellationToken)
    {
        if (!settings.CrossJourney.HasCaps)
        {
            return [];
        }

        return Of(await instances.ListForCustomerAsync(customer, cancellationToken).ToListAsync(cancellationToken), clock.GetUtcNow());
    }

    /// <summary>From instances the caller has already listed: no read.</summary>
    public IReadOnlyList<RecentSend> Of(IEnumerable<JourneyInstance> listed, DateTimeOffset now) =>
        settings.CrossJourney.HasCaps
            ? FrequencyCaps.StillCounting(listed.SelectMany(i => i.RecentSends), now).OrderBy(s => s.At).ToList()
            : [];
}
