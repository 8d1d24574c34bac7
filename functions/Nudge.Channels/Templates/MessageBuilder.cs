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
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions FluidOptions = new();
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
        var draft = new MessageDraft(
            outbound.Channel,
            outbound.Class,
            Render(template.Name + "#text", template.Text, variables, NullEncoder.Default),
            template.Subject is null ? null : Render(template.Name + "#subject", template.Subject, variables, NullEncoder.Default),
            template.Html is null ? null : Render(template.Name + "#html", template.Html, variables, HtmlEncoder.Default));
        var composition = MessageComposer.Compose(draft, options.Value.Identity, unsubscribe);
        return composition.Message is { } message
            ? new BuildResult(new BuiltMessage(message, unsubscribe, template.KakaoTemplateCode, Flatten(variables)), null)
            : new BuildResult(null, composition.Rejection);
    }

    /// <summary>Renders free text (the preview's) with sample values; null and the parse error if it is not valid Liquid.</summary>
    public (string? Text, string? Error) RenderSample(string source)
    {
        if (!Parser.TryParse(source, out var template, out var error))
        {
            return (null, error);
        }

        var sample = new CustomerProfile { Key = new CustomerKey("preview", "0"), FirstName = "민지" };
        var variables = Variables(sample, options.Value.SenderName, $"{options.Value.PublicBaseUrl.TrimEnd('/')}/api/unsubscribe?t=preview",
            new Dictionary<string, string>());
        return (template.Render(Context(variables), NullEncoder.Default), null);
    }

    private static Dictionary<string, object?> Variables(CustomerProfile profile, string shopName, string unsubscribeUrl, Dictionary<string, string> trackedLinks) => new()
    {
        ["customer"] = new Dictionary<string, object?> { ["first_name"] = profile.FirstName },
        ["shop"] = new Dictionary<string, object?> { ["name"] = shopName },
        ["links"] = trackedLinks.ToDictionary(l => l.Key, l => (object?)l.Value),
        ["unsubscribe_url"] = unsubscribeUrl,
    };

    private string Render(string key, string source, Dictionary<string, object?> variables, TextEncoder encoder)
    {
        var template = _parsed.GetOrAdd(key, _ => Parser.Parse(source));
        return template.Render(Context(variables), encoder);
    }

    private static TemplateContext Context(Dictionary<string, object?> variables)
    {
        var context = new TemplateContext(FluidOptions);
        foreach (var (name, value) in variables)
        {
            context.SetValue(name, value);
        }

        return context;
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
