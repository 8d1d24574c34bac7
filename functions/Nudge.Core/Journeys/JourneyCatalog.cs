using Nudge.Core.Delivery;
using Nudge.Core.Events;

namespace Nudge.Core.Journeys;

/// <summary>
/// Ready journeys from the case studies, each one a marketer can switch on. Only the welcome journey is on by
/// default. Event names beyond signup and order are the ones the ingestion sources produce.
/// </summary>
public static class JourneyCatalog
{
    // Segments come first: static properties initialize in order, and presets refer to them.
    /// <summary>Customers who accept advertising on at least one medium.</summary>
    public static Segment MarketingConsent { get; } = new()
    {
        Id = "marketing-consent",
        Name = "Accepts advertising (email or SMS)",
        Condition = new Condition { Any = [Condition.Is("profile.emailConsent", "eq", "true"), Condition.Is("profile.smsConsent", "eq", "true")] },
    };

    /// <summary>Segments the presets use; created when a deployment starts without them.</summary>
    public static IReadOnlyList<Segment> PresetSegments { get; } = [MarketingConsent, .. AudiencePresets.Bigin];

    private static SendStep Send(string id, string channel, string template, MessageClass messageClass = MessageClass.Ad, string? next = null) =>
        new() { Id = id, Channel = channel, Template = template, Class = messageClass, Next = next };

    private static WaitStep Wait(string id, TimeSpan duration) => new() { Id = id, Duration = duration };

    /// <summary>Signup → coupon email now → SMS on day 2 unless they bought; an order ends it at once. Not for a customer who ordered before signing up.</summary>
    public static JourneyDefinition Welcome { get; } = new()
    {
        Id = "welcome",
        Version = 1,
        Name = "Welcome coupon + day-2 SMS",
        Priority = 50,
        Entry = new JourneyEntry { Event = EventTypes.CustomerSignedUp, Filter = Condition.Is("profile.hasOrdered", "eq", "false") },
        ExitOn = [EventTypes.OrderPlaced],
        Steps =
        [
            Send("coupon", ChannelNames.Email, "welcome-coupon"),
            Wait("two-days", TimeSpan.FromDays(2)),
            Send("day2-sms", ChannelNames.Sms, "welcome-day2"),
        ],
    };

    /// <summary>One journey per checkout: a day after the cart last changed, a special offer; an order ends it.</summary>
    public static JourneyDefinition AbandonedCheckout { get; } = new()
    {
        Id = "abandoned-checkout",
        Version = 1,
        Name = "Abandoned checkout (1 day, special offer)",
        Priority = 80,
        // A checkout event's subject is the checkout: one instance per checkout.
        Entry = JourneyEntry.OnEvent(EventTypes.CheckoutStarted, businessKey: "subjectId"),
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.PerBusinessKey },
        ExitOn = [EventTypes.OrderPlaced],
        Steps =
        [
            new WaitForEventStep
            {
                // The order itself ends the journey through exitOn; this step only waits for a day without cart changes.
                Id = "idle-a-day", Event = EventTypes.OrderPlaced, Timeout = TimeSpan.FromDays(1),
                ResetOn = EventTypes.CheckoutUpdated, MatchBusinessKey = true, OnEvent = "done", OnTimeout = "offer",
            },
            Send("offer", ChannelNames.Email, "abandoned-checkout-offer", next: "reminder-wait"),
            Wait("reminder-wait", TimeSpan.FromDays(1)),
            Send("reminder", ChannelNames.Sms, "abandoned-checkout-reminder", next: "done"),
            new ExitStep { Id = "done" },
        ],
    };

    /// <summary>A viewed or carted product got cheaper by at least 10%: tell the customer, at most once a week.</summary>
    public static JourneyDefinition PriceDrop { get; } = new()
    {
        Id = "price-drop",
        Version = 1,
        Name = "Price-drop alert for viewed or carted products",
        Priority = 60,
        Entry = new JourneyEntry
        {
            Event = EventTypes.ProductPriceDropped,
            Filter = Condition.Is("event.dropPercent", "gte", "10"),
        },
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterCooldown, Cooldown = TimeSpan.FromDays(7) },
        Steps = [Send("alert", ChannelNames.Kakao, "price-drop-alert")],
    };

    /// <summary>
    /// A product viewed a second time within a day, with no cart or order: the next day, an email with it and the
    /// products related to it (<c>{{ recommendations }}</c>). A cart, a checkout or an order ends it (and counts as
    /// its conversion; only an order as revenue).
    /// </summary>
    public static JourneyDefinition BrowseAbandonment { get; } = new()
    {
        Id = "browse-abandonment",
        Version = 1,
        Name = "Browse abandonment: a product viewed twice in a day",
        Priority = 55,
        // Viewed twice without a cart or an order in the day: a customer already buying is not browsing.
        Entry = new JourneyEntry
        {
            Event = EventTypes.ProductViewed,
            Filter = new Condition
            {
                All =
                [
                    Condition.Is(Pipeline.JourneyEventHandler.ProductViewsInDayFact, "gte", "2"),
                    Condition.Is("profile.hasOpenCart", "eq", "false"),
                    new Condition { Any = [Condition.Is("profile.lastOrderAt", "missing"), Condition.Is("profile.lastOrderAt", "lt", "now-PT24H")] },
                ],
            },
        },
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterCooldown, Cooldown = TimeSpan.FromDays(7) },
        ExitOn = [EventTypes.CartUpdated, EventTypes.CheckoutStarted, EventTypes.OrderPlaced],
        Steps =
        [
            Wait("next-day", TimeSpan.FromDays(1)),
            Send("picks", ChannelNames.Email, "browse-abandonment"),
        ],
    };

    /// <summary>Thanks at once (informational), a cross-sell three days later.</summary>
    public static JourneyDefinition PostPurchase { get; } = new()
    {
        Id = "post-purchase",
        Version = 1,
        Name = "Post-purchase thank-you + cross-sell",
        Priority = 40,
        Entry = JourneyEntry.OnEvent(EventTypes.OrderPlaced),
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
        Steps =
        [
            Send("thanks", ChannelNames.Email, "order-thanks", MessageClass.Informational),
            Wait("three-days", TimeSpan.FromDays(3)),
            Send("cross-sell", ChannelNames.Email, "cross-sell"),
        ],
    };

    /// <summary>Within 7 days of a first order, nudge a second one; the second order ends it.</summary>
    public static JourneyDefinition Repurchase { get; } = new()
    {
        Id = "repurchase",
        Version = 1,
        Name = "Repurchase nudge within 7 days of a first order",
        Priority = 45,
        Entry = new JourneyEntry { Event = EventTypes.OrderPlaced, Filter = Condition.Is("event.firstOrder", "eq", "true") },
        ExitOn = [EventTypes.OrderPlaced],
        Steps =
        [
            Wait("five-days", TimeSpan.FromDays(5)),
            Send("nudge", ChannelNames.Sms, "repurchase-nudge"),
        ],
    };

    /// <summary>Every visit (a page view) restarts a 14-day clock; when it runs out, a win-back offer.</summary>
    public static JourneyDefinition WinBack { get; } = new()
    {
        Id = "win-back",
        Version = 1,
        Name = "Win-back after 14 days without a visit",
        Priority = 30,
        Entry = JourneyEntry.OnEvent(EventTypes.PageViewed),
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
        Steps =
        [
            new WaitForEventStep
            {
                Id = "away-14-days", Event = EventTypes.PageViewed, Timeout = TimeSpan.FromDays(14), OnEvent = "back", OnTimeout = "offer",
            },
            Send("offer", ChannelNames.Email, "win-back-offer", next: "back"),
            new ExitStep { Id = "back" },
        ],
    };

    /// <summary>Points worth spending: the message matches the balance tier (2,000 / 5,000 / 10,000 KRW), at most monthly.</summary>
    public static JourneyDefinition PointsReminder { get; } = new()
    {
        Id = "points-reminder",
        Version = 1,
        Name = "Points-balance reminder",
        Priority = 20,
        Entry = new JourneyEntry { Event = EventTypes.PointsChanged, Filter = Condition.Is("event.balance", "gte", "2000") },
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterCooldown, Cooldown = TimeSpan.FromDays(30) },
        Steps =
        [
            new ConditionStep { Id = "tier-10000", Condition = Condition.Is("event.balance", "gte", "10000"), Then = "points-10000", Else = "tier-5000" },
            new ConditionStep { Id = "tier-5000", Condition = Condition.Is("event.balance", "gte", "5000"), Then = "points-5000", Else = "points-2000" },
            Send("points-10000", ChannelNames.Sms, "points-10000", next: "done"),
            Send("points-5000", ChannelNames.Sms, "points-5000", next: "done"),
            Send("points-2000", ChannelNames.Sms, "points-2000", next: "done"),
            new ExitStep { Id = "done" },
        ],
    };

    /// <summary>Marketing consent is re-confirmed every two years (a month ahead of the anniversary).</summary>
    public static JourneyDefinition ConsentReconfirmation { get; } = new()
    {
        Id = "consent-reconfirmation",
        Version = 1,
        Name = "Consent re-confirmation every 2 years",
        Priority = 90,
        // Granting consent is entering the segment; withdrawing all of it ends the journey.
        Entry = new JourneyEntry { Segment = MarketingConsent.Id },
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
        ExitOn = [new ExitRule { Event = EventTypes.CustomerUpdated, Filter = new Condition { Not = MarketingConsent.Condition } }],
        ConversionWindow = TimeSpan.FromDays(730),
        Steps =
        [
            Wait("almost-two-years", TimeSpan.FromDays(700)),
            Send("reconfirm", ChannelNames.Email, "consent-reconfirm", MessageClass.Informational),
        ],
    };

    /// <summary>Optional, shop policy: PIPA no longer requires dormancy notices (2023), some shops keep them.</summary>
    public static JourneyDefinition DormancyNotice { get; } = new()
    {
        Id = "dormancy-notice",
        Version = 1,
        Name = "Dormancy notice (optional shop policy)",
        Priority = 10,
        Entry = JourneyEntry.OnEvent(EventTypes.PageViewed),
        Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
        Steps =
        [
            new WaitForEventStep
            {
                Id = "away-11-months", Event = EventTypes.PageViewed, Timeout = TimeSpan.FromDays(335), OnEvent = "back", OnTimeout = "notice",
            },
            Send("notice", ChannelNames.Email, "dormancy-notice", MessageClass.Informational, next: "back"),
            new ExitStep { Id = "back" },
        ],
    };

    public static IReadOnlyList<JourneyDefinition> Presets { get; } =
        [Welcome, AbandonedCheckout, PriceDrop, BrowseAbandonment, PostPurchase, Repurchase, WinBack, PointsReminder, ConsentReconfirmation, DormancyNotice];

    /// <summary>The journeys that are on when a deployment starts with none published.</summary>
    public static IReadOnlyList<JourneyDefinition> OnByDefault { get; } = [Welcome];

    /// <summary>Kept for the foundation's callers: the journeys on by default.</summary>
    public static IReadOnlyList<JourneyDefinition> Enabled => OnByDefault;
}
