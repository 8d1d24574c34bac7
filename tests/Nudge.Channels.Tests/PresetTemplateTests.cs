using Nudge.Channels.Templates;
using Nudge.Core.Customers;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.Channels.Tests;

/// <summary>Every message a preset journey sends has a template written for its channel and class, and it builds.</summary>
public class PresetTemplateTests
{
    public static TheoryData<string, string> PresetSends()
    {
        var data = new TheoryData<string, string>();
        foreach (var preset in JourneyCatalog.Presets)
        {
            foreach (var send in preset.Steps.OfType<SendStep>())
            {
                data.Add(preset.Id, send.Id);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(PresetSends))]
    public void PresetSend_HasAMatchingTemplateThatBuilds(string journeyId, string stepId)
    {
        var send = JourneyCatalog.Presets.Single(p => p.Id == journeyId).Steps.OfType<SendStep>().Single(s => s.Id == stepId);
        var template = new EmbeddedTemplateStore().Find(send.Template);
        var customer = new CustomerProfile { Key = new CustomerKey("shopify", "1"), FirstName = "민지", Email = "m@example.com", Phone = "01012345678" };

        var built = ChannelRouterTests.Builder().Build(new OutboundMessage("d-1", send.Channel, send.Template, send.Class, customer));

        Assert.NotNull(template);
        Assert.Equal((send.Channel, send.Class), (template.Channel, template.Class));
        Assert.True(built.Message is not null, built.Rejection);
    }
}
