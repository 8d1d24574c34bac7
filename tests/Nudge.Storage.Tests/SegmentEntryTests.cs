using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Events;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Storage.Tests;

public class SegmentEntryTests
{
    private static readonly CustomerKey Customer = new("shopify", "7001");

    private static CustomerEvent Order(string id, int hours) => new()
    {
        EventId = $"shopify-order-{id}", Customer = Customer, Type = EventTypes.OrderPlaced, OccurredAt = Pipeline.Morning.AddHours(hours),
    };

    [Fact]
    public async Task EnteringASegment_StartsTheJourneyOnce_StayingInItDoesNotRestartIt()
    {
        var p = await Pipeline.CreateAsync();
        await p.Segments.SaveAsync(new Segment { Id = "buyers", Condition = Condition.Is("profile.hasOrdered", "eq", "true") }, CancellationToken.None);
        await p.Library.SaveDraftAsync(new JourneyDefinition
        {
            Id = "buyer-welcome",
            Entry = new JourneyEntry { Segment = "buyers" },
            Reentry = new ReentryPolicy { Policy = ReentryPolicy.AfterExit },
            Steps = [new SendStep { Id = "hello", Channel = ChannelNames.Email, Template = "buyer-welcome", Class = MessageClass.Informational }],
        }, CancellationToken.None);
        await p.Library.PublishAsync("buyer-welcome", CancellationToken.None);
        var signup = Pipeline.Signup("7001");
        foreach (var evt in new[] { signup, Order("1", 2), Order("2", 30) })
        {
            await p.Events.TryAddAsync(evt, CancellationToken.None);
        }

        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", signup.EventId), p.Runtime, CancellationToken.None);
        var afterSignup = await p.Instances.GetAsync(Customer, "buyer-welcome", CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", "shopify-order-1"), p.Runtime, CancellationToken.None);
        await p.EventHandler.HandleAsync(new JourneyEventMessage("shopify", "7001", "shopify-order-2"), p.Runtime, CancellationToken.None);

        Assert.Null(afterSignup);
        var buyerMessages = (await p.DecidedSendsAsync(Customer)).Where(d => d.JourneyId == "buyer-welcome");
        Assert.Single(buyerMessages);
    }
}

public class EventFactTests
{
    [Fact]
    public void OfEvent_PriceDrop_CarriesDropPercentForThePresetFilter()
    {
        var evt = new CustomerEvent
        {
            EventId = "e", Customer = new CustomerKey("shopify", "1"), Type = EventTypes.ProductPriceDropped, OccurredAt = Pipeline.Morning,
            SubjectId = "p1", Properties = new Dictionary<string, string> { ["dropPercent"] = "15", ["type"] = "spoofed" },
        };

        var facts = CustomerFacts.OfEvent(evt, null);

        Assert.Equal("15", facts["event.dropPercent"]);
        Assert.Equal(EventTypes.ProductPriceDropped, facts["event.type"]); // a property never shadows the model
        Assert.True(JourneyCatalog.PriceDrop.Entry.Filter!.Evaluate(facts, EvaluationTime.Utc(DateTimeOffset.UnixEpoch)));
    }
}
