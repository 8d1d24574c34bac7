using Nudge.Core.Delivery;
using Nudge.Core.Events;

namespace Nudge.Core.Journeys;

/// <summary>The journeys that are on. The welcome journey is on by default.</summary>
public static class JourneyCatalog
{
    /// <summary>Signup → coupon email now → SMS on day 2 unless they bought; an order ends it at once.</summary>
    public static JourneyDefinition Welcome { get; } = new()
    {
        Id = "welcome",
        Version = 1,
        EntryEvent = EventTypes.CustomerSignedUp,
        ExitOn = [EventTypes.OrderPlaced],
        Steps =
        [
            new SendStep(Channels.Email, "welcome-coupon", MessageClass.Ad),
            new WaitStep(TimeSpan.FromDays(2)),
            new SendStep(Channels.Sms, "welcome-day2", MessageClass.Ad),
        ],
    };

    public static IReadOnlyList<JourneyDefinition> Enabled { get; } = [Welcome];
}
