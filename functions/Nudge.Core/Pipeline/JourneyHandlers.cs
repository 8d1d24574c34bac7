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
    IEventStore events, ProfileUpdater profiles, JourneyRunner runner, IJourneyCatalog catalog, IJourneyInstanceStore instances, RecentSends recentSends,
    SegmentLibrary segments, PipelineSettings settings, TimeProvider clock, Consent.IConsentLedger? consentLedger = null)
{
    /// <param name="messageId">The queue message's id, so a redelivery finishes what a stopped handler left undone.</param>
    public async Task<EventHandling> HandleAsync(JourneyEventMessage message, CancellationToken cancellationToken, string? messageId = null)
    {
        var evt = await events.GetAsync(message.Customer, message.EventId, cancellationToken);
        if (evt is null)
        {
            return EventHandling.EventMissing;
        }

        // One queue message may carry several events: the writer of an outbox is the message and the event in it.
        var writer = messageId is null ? null : $"{messageId}/{evt.EventId}";
        var (before, profile) = await profiles.ApplyWithPreviousAsync(evt, cancellationToken);
        await RecordConsentChangesAsync(evt, before, profile, cancellationToken);
        var allSegments = await segments.AllAsync(cancellationToken);
        var membersBefore = SegmentLibrary.Memberships(allSegments, before);
        var membersAfter = SegmentLibrary.Memberships(allSegments, profile);
        var eventFacts = CustomerFacts.OfEvent(evt, profile);

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

        // Every decision sees the sends of the ones before it in this handling, so caps hold across journeys.
        var latest = listed.ToDictionary(i => i.Slot, StringComparer.Ordinal);
        var sends = recentSends.Of(latest.Values, clock.GetUtcNow());
        void Saved(JourneyInstance instance)
        {
            latest[instance.Slot] = instance;
            sends = recentSends.Of(latest.Values, clock.GetUtcNow());
        }

        foreach (var instance in running)
        {
            var context = WithSegments(CustomerContexts.For(profile, instance.Definition, settings, evt, sends), membersAfter);
            var key = CustomerFacts.BusinessKey(instance.Definition, eventFacts);
            await runner.ApplyAsync(evt.Customer, instance.Slot, at => new EventArrived(at, evt.Type, evt.EventId, key, eventFacts), context, cancellationToken,
                writer: writer, saved: Saved, replayed: message.Replayed);
        }

        // Highest priority first, so a cap on concurrent marketing journeys keeps the ones that matter most.
        var activeMarketing = running.Count(i => i.Definition.IsMarketing);
        foreach (var journey in (await catalog.ActiveAsync(cancellationToken)).OrderByDescending(j => j.Priority))
        {
            var entersSegment = journey.Entry.Segment is { } segment
                && membersAfter.GetValueOrDefault($"segment.{segment}") == "true" && membersBefore.GetValueOrDefault($"segment.{segment}") != "true";
            if (journey.Entry.Event != evt.Type && !entersSegment)
            {
                continue;
            }

            var context = WithSegments(CustomerContexts.For(profile, journey, settings, evt, sends), membersAfter);
            var facts = CustomerFacts.Merge(context.CustomerFacts, eventFacts);
            if (journey.Entry.Filter is { } filter && !filter.Evaluate(facts))
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
            if (await runner.StartAsync(journey, evt.Customer, context, new EntryTrigger(evt.EventId, key, eventFacts), cancellationToken, knownAbsent, writer, Saved, message.Replayed) == RunOutcome.Started
                && journey.IsMarketing)
            {
                activeMarketing++;
            }
        }

        return EventHandling.Processed;
    }

    /// <summary>
    /// A change of consent the shop reports on a known customer goes into the consent ledger (audit of who changed
    /// what, where and when). The consent a signup brings is the shop's own record, made on its signup form.
    /// </summary>
    private async Task RecordConsentChangesAsync(CustomerEvent evt, CustomerProfile? before, CustomerProfile after, CancellationToken cancellationToken)
    {
        if (consentLedger is null || before is null || before.Consent == after.Consent)
        {
            return;
        }

        var at = evt.Contact?.UpdatedAt ?? evt.OccurredAt;
        foreach (var entry in Consent.ConsentRules.Changes(evt.Customer, before.Consent, after.Consent, $"{evt.Customer.Platform} {evt.Type}", at))
        {
            await consentLedger.AppendAsync(entry, cancellationToken);
        }
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

    /// <summary><c>segment.&lt;id&gt;</c> → "true"/"false" for each segment, from the profile's facts; empty for no profile.</summary>
    public static IReadOnlyDictionary<string, string> Memberships(IReadOnlyList<Segment> segments, CustomerProfile? profile)
    {
        if (profile is null || segments.Count == 0)
        {
            return new Dictionary<string, string>();
        }

        var facts = CustomerFacts.OfProfile(profile);
        return segments.ToDictionary(s => s.Fact, s => s.Condition.Evaluate(facts) ? "true" : "false");
    }
}

public enum TimerHandling
{
    Fired,

    /// <summary>Not due yet (a chained long delay, or early visibility): rescheduled.</summary>
    Rescheduled,
}

/// <summary>Delivers a durable timer to its instance once its virtual due time has come.</summary>
public sealed class JourneyTimerHandler(
    IWorkQueue queue, IProfileStore profiles, IJourneyInstanceStore instances, JourneyRunner runner, IJourneyCatalog catalog, RecentSends recentSends, PipelineSettings settings, TimeProvider clock)
{
    /// <param name="messageId">The queue message's id: a stale timer is dropped unless it is the redelivery of the one
    /// whose handling stopped half-way.</param>
    public async Task<TimerHandling> HandleAsync(JourneyTimerMessage message, CancellationToken cancellationToken, string? messageId = null)
    {
        if (clock.GetUtcNow() < message.DueAt)
        {
            await queue.EnqueueTimerAsync(message, cancellationToken);
            return TimerHandling.Rescheduled;
        }

        var stored = await instances.GetAsync(message.Customer, message.InstanceSlot, cancellationToken);
        if (stored is null || !JourneyRunner.Concerns(stored.Value, message.Sequence, messageId, message.Replayed))
        {
            return TimerHandling.Fired; // a stale or duplicate timer: nothing to read further, nothing to do
        }

        var profile = (await profiles.GetAsync(message.Customer, cancellationToken))?.Value;
        var sends = await recentSends.ForAsync(message.Customer, cancellationToken);
        var context = CustomerContexts.For(profile, stored.Value.Instance.Definition, settings, trigger: null, sends) with
        {
            OrderedSinceEntry = CustomerContexts.OrderedSinceEntry(profile, stored.Value.Instance),
            AwaitedSinceEntry = CustomerContexts.AwaitedSinceEntry(profile, stored.Value.Instance),
        };
        var archived = await catalog.StatusAsync(message.JourneyId, cancellationToken) == JourneyStatus.Archived;
        await runner.ApplyAsync(message.Customer, message.InstanceSlot,
            at => archived ? new JourneyArchived(at) : new TimerFired(at, message.Sequence), context, cancellationToken, loaded: stored, writer: messageId, replayed: message.Replayed);
        return TimerHandling.Fired;
    }
}

/// <summary>Reads and writes profiles under optimistic concurrency.</summary>
public sealed class ProfileUpdater(IProfileStore profiles)
{
    private const int MaxAttempts = 10;

    public async Task<CustomerProfile> ApplyAsync(CustomerEvent evt, CancellationToken cancellationToken) =>
        (await ApplyWithPreviousAsync(evt, cancellationToken)).After;

    /// <summary>The profile before and after the event, so segment entries can see who just entered.</summary>
    public async Task<(CustomerProfile? Before, CustomerProfile After)> ApplyWithPreviousAsync(CustomerEvent evt, CancellationToken cancellationToken)
    {
        // A signup usually meets no profile: try the insert first and save the read (a conflict falls back to read + write).
        if (evt.Type == EventTypes.CustomerSignedUp)
        {
            var created = ProfileUpdates.Apply(null, evt);
            if (await profiles.TrySaveAsync(created, null, cancellationToken))
            {
                return (null, created);
            }
        }

        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var current = await profiles.GetAsync(evt.Customer, cancellationToken);
            var updated = ProfileUpdates.Apply(current?.Value, evt);
            if (current is not null && updated == current.Value)
            {
                return (current.Value, updated);
            }

            if (await profiles.TrySaveAsync(updated, current?.Version, cancellationToken))
            {
                return (current?.Value, updated);
            }
        }

        throw new ConcurrencyException($"Could not update the profile after {MaxAttempts} attempts.");
    }
}

public static class CustomerContexts
{
    public static CustomerContext For(CustomerProfile? profile, JourneyDefinition journey, PipelineSettings settings, CustomerEvent? trigger, IReadOnlyList<RecentSend>? sends = null) =>
        For(profile, journey, settings.DefaultTimeZone, trigger) with { Rules = settings.CrossJourney, RecentSends = sends };

    public static CustomerContext For(CustomerProfile? profile, JourneyDefinition journey, TimeZoneInfo defaultZone, CustomerEvent? trigger)
    {
        // An order before the start reaches the goal of a journey that an order ends; for a journey that an
        // order starts, only a later order than the triggering one does.
        var endsOnOrder = journey.ExitOn.Any(r => r.Event == EventTypes.OrderPlaced);
        var goalReached = endsOnOrder && profile is not null && (trigger?.Type == EventTypes.OrderPlaced
            ? profile.LastOrderAt > trigger.OccurredAt
            : profile.HasOrdered);
        return new CustomerContext(ZoneOf(profile, defaultZone), profile?.Consent.NightAds ?? false, goalReached, CustomerFacts.OfProfile(profile));
    }

    /// <summary>
    /// Whether the profile's last order is later than the event that started the instance (the order may have been
    /// handled while the instance was being started, and so never reached it).
    /// </summary>
    public static bool OrderedSinceEntry(CustomerProfile? profile, JourneyInstance instance) =>
        profile?.LastOrderAt is { } lastOrder && lastOrder > EnteredAt(instance);

    /// <summary>
    /// Whether the instance waits, since its start, for an event (any, not filtered or keyed: those need the event
    /// itself) that the profile shows after the entry: it was handled while the instance was being started. Source
    /// times on both sides, as for orders; a wait begun later is reached by every event handled after it began.
    /// </summary>
    public static bool AwaitedSinceEntry(CustomerProfile? profile, JourneyInstance instance) =>
        profile is not null
        && JourneyInterpreter.Current(instance) is WaitForEventStep { Filter: null, MatchBusinessKey: false } wait
        && instance.WaitingUntil - wait.Timeout == instance.StartedAt
        && profile.LastEventAt.TryGet(wait.Event, out var last)
        && last > EnteredAt(instance);

    /// <summary>When the entry event happened (source time), or the start for an entry without one.</summary>
    private static DateTimeOffset EnteredAt(JourneyInstance instance) =>
        instance.TriggerFacts.TryGetValue("event.occurredAt", out var text)
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var entered) ? entered : instance.StartedAt;

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
