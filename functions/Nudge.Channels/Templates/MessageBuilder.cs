using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using Fluid;
using Microsoft.Extensions.Options;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.Channels.Templates;

/// <summary>A message ready for a provider: composed (labels applied), plus what providers need besides the text.</summary>
public sealed record BuiltMessage(ComposedMessage Message, string UnsubscribeUrl, string? KakaoTemplateCode, IReadOnlyDictionary<string, string> Variables);

public sealed record BuildResult(BuiltMessage? Message, string? Rejection);

/// <summary>
/// Renders a template's Liquid parts for one customer (Fluid), turns its links into tracked redirect links, and
/// composes the result under the labelling rules. Deterministic for a given delivery, so a retry renders the same.
/// </summary>
public sealed class MessageBuilder(ITemplateStore templates, LinkTokens links, IOptions<ChannelOptions> options)
{
    private readonly ConcurrentDictionary<string, IFluidTemplate> _parsed = new();

    public BuildResult Build(OutboundMessage outbound)
    {
        var template = templates.Find(outbound.Template);
        if (template is null)
        {
            return new BuildResult(null, $"unknown template '{outbound.Template}'");
        }

        if (template.Channel != outbound.Channel)
        {
            return new BuildResult(null, $"template '{template.Name}' is written for {template.Channel}, not {outbound.Channel}");
        }

        var customer = outbound.Recipient.Key;
        var unsubscribe = links.UnsubscribeUrl(new UnsubscribeToken(customer, outbound.Channel, outbound.DeliveryId));
        var variables = Variables(outbound.Recipient, options.Value.SenderName, unsubscribe,
            template.Links.ToDictionary(l => l.Key, l => links.ClickUrl(new ClickToken(customer, outbound.DeliveryId, l.Key))));
        var (text, textError) = Render(template.Name + "#text", template.Text, variables, NullEncoder.Default);
        var (subject, subjectError) = template.Subject is null ? (null, null) : Render(template.Name + "#subject", template.Subject, variables, NullEncoder.Default);
        var (html, htmlError) = template.Html is null ? (null, null) : Render(template.Name + "#html", template.Html, variables, HtmlEncoder.Default);
        if ((textError ?? subjectError ?? htmlError) is { } bounds)
        {
            return new BuildResult(null, $"template '{template.Name}' cannot be rendered: {bounds}");
        }

        var draft = new MessageDraft(outbound.Channel, outbound.Class, text!, subject, html);
        var composition = MessageComposer.Compose(draft, options.Value.Identity, unsubscribe);
        return composition.Message is { } message
            ? new BuildResult(new BuiltMessage(message, unsubscribe, template.KakaoTemplateCode, Flatten(variables)), null)
            : new BuildResult(null, composition.Rejection);
    }

    /// <summary>
    /// Renders free text (the preview's) with sample values; null and why if it is not valid Liquid or exceeds the
    /// rendering bounds (<see cref="BoundedLiquid"/>).
    /// </summary>
    public (string? Text, string? Error) RenderSample(string source)
    {
        if (!BoundedLiquid.TryParse(source, out var template, out var error))
        {
            return (null, $"The Liquid template is refused: {error}.");
        }

        var sample = new CustomerProfile { Key = new CustomerKey("preview", "0"), FirstName = "민지" };
        var variables = Variables(sample, options.Value.SenderName, $"{options.Value.PublicBaseUrl.TrimEnd('/')}/api/unsubscribe?t=preview",
            new Dictionary<string, string>());
        var (text, bounds) = BoundedLiquid.TryRender(template!, variables, NullEncoder.Default);
        return (text, bounds is null ? null : $"The template exceeds the rendering bounds: {bounds}.");
    }

    private static Dictionary<string, object?> Variables(CustomerProfile profile, string shopName, string unsubscribeUrl, Dictionary<string, string> trackedLinks) => new()
    {
        ["customer"] = new Dictionary<string, object?> { ["first_name"] = profile.FirstName },
        ["shop"] = new Dictionary<string, object?> { ["name"] = shopName },
        ["links"] = trackedLinks.ToDictionary(l => l.Key, l => (object?)l.Value),
        ["unsubscribe_url"] = unsubscribeUrl,
    };

    private (string? Text, string? Error) Render(string key, string source, Dictionary<string, object?> variables, TextEncoder encoder)
    {
        if (!_parsed.TryGetValue(key, out var template))
        {
            if (!BoundedLiquid.TryParse(source, out template, out var error))
            {
                return (null, error);
            }

            _parsed[key] = template!;
        }

        return BoundedLiquid.TryRender(template!, variables, encoder);
    }

    /// <summary>Kakao AlimTalk templates take flat <c>#{name}</c> variables.</summary>
    private static Dictionary<string, string> Flatten(Dictionary<string, object?> variables)
    {
        var flat = new Dictionary<string, string>();
        foreach (var (name, value) in variables)
        {
            if (value is Dictionary<string, object?> nested)
            {
                foreach (var (inner, innerValue) in nested)
                {
                    flat[$"{name}.{inner}"] = innerValue?.ToString() ?? "";
                }
            }
            else
            {
                flat[name] = value?.ToString() ?? "";
            }
        }

        return flat;
    }
}
