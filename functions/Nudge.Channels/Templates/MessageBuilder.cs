using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using Fluid;
using Microsoft.Extensions.Options;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Recommendations;

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

    /// <summary>
    /// Builds the message with the customer's recommendations when its template shows products (looked up at send
    /// time, so sold-out or unpublished ones are left out); without a source of them, with none.
    /// </summary>
    public async Task<BuildResult> BuildAsync(OutboundMessage outbound, CustomerRecommendations? recommendations, CancellationToken cancellationToken)
    {
        var products = templates.Find(outbound.Template)?.Recommendations is int wanted and > 0 && recommendations is not null
            ? await recommendations.ForAsync(outbound.Recipient, wanted, cancellationToken)
            : null;
        return Build(outbound, products);
    }

    /// <param name="products">The customer's recommendations, best first: as many as fit go into <c>{{ recommendations }}</c>.</param>
    public BuildResult Build(OutboundMessage outbound, IReadOnlyList<RecommendedProduct>? products = null)
    {
        // Fewer products rather than a cut message: drop the last one until the channel's limit holds.
        var shown = Math.Min(products?.Count ?? 0, templates.Find(outbound.Template)?.Recommendations ?? 0);
        var built = BuildWith(outbound, products?.Take(shown).ToList() ?? []);
        while (built.Message is null && shown > 0)
        {
            built = BuildWith(outbound, products!.Take(--shown).ToList());
        }

        return built;
    }

    private BuildResult BuildWith(OutboundMessage outbound, IReadOnlyList<RecommendedProduct> products)
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
            template.Links.ToDictionary(l => l.Key, l => links.ClickUrl(new ClickToken(customer, outbound.DeliveryId, l.Key))),
            Cards(products, p => links.ClickUrl(new ClickToken(customer, outbound.DeliveryId, ProductLinks.Key(p.ProductId)))));
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
            new Dictionary<string, string>(), Cards(SampleProducts, _ => $"{options.Value.PublicBaseUrl.TrimEnd('/')}/api/r/preview"));
        var (text, bounds) = BoundedLiquid.TryRender(template!, variables, NullEncoder.Default);
        return (text, bounds is null ? null : $"The template exceeds the rendering bounds: {bounds}.");
    }

    private static readonly RecommendedProduct[] SampleProducts =
    [
        new("sample-1", "울 양말 3족 세트", "https://shop.example/products/wool-socks", "https://shop.example/socks.jpg", 12900m, "KRW", RecommendationReason.Viewed),
        new("sample-2", "머그컵", "https://shop.example/products/mug", null, 9000m, "KRW", RecommendationReason.Related),
    ];

    private static Dictionary<string, object?> Variables(
        CustomerProfile profile, string shopName, string unsubscribeUrl, Dictionary<string, string> trackedLinks, List<object?> recommendations) => new()
    {
        ["customer"] = new Dictionary<string, object?> { ["first_name"] = profile.FirstName },
        ["shop"] = new Dictionary<string, object?> { ["name"] = shopName },
        ["links"] = trackedLinks.ToDictionary(l => l.Key, l => (object?)l.Value),
        ["unsubscribe_url"] = unsubscribeUrl,
        ["recommendations"] = recommendations,
    };

    /// <summary><c>{{ recommendations }}</c>: per product its title, tracked link, image, price in its currency (else the shop's) and why it was chosen.</summary>
    private List<object?> Cards(IEnumerable<RecommendedProduct> products, Func<RecommendedProduct, string> trackedUrl) =>
        products.Select(p => (object?)new Dictionary<string, object?>
        {
            ["title"] = p.Title,
            ["url"] = trackedUrl(p),
            ["image"] = p.ImageUrl,
            ["price"] = p.Price is { } price ? FormatPrice(price, p.Currency ?? options.Value.Currency) : null,
            ["reason"] = p.Reason.ToString().ToLowerInvariant(),
        }).ToList();

    /// <summary>Won as Korean shops write it (<c>39,000원</c>); other currencies as the amount and the ISO code.</summary>
    public static string FormatPrice(decimal amount, string currency) => currency.ToUpperInvariant() switch
    {
        "KRW" => amount.ToString("#,0", CultureInfo.InvariantCulture) + "원",
        "JPY" => amount.ToString("#,0", CultureInfo.InvariantCulture) + " JPY",
        var code => amount.ToString("#,0.00", CultureInfo.InvariantCulture) + " " + code,
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
            if (value is List<object?>)
            {
                continue; // lists (recommendations) have no flat form: an AlimTalk template cannot carry them
            }

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
