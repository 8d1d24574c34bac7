using Nudge.Channels.Templates;
using Nudge.Core.Pipeline;
using Nudge.Core.Recommendations;

namespace Nudge.Channels;

/// <summary>
/// Where a tracked link leads: a link the delivery's template names, or a recommended product's page as the shop's
/// catalog holds it (the signed token names the product, the catalog the page). Nothing else, so the click redirect
/// is no open redirect.
/// </summary>
public sealed class ClickTargets(ITemplateStore templates, IProfileStore profiles, ICatalogStore catalog)
{
    public async Task<string?> ResolveAsync(ClickToken click, DeliveryRecord delivery, CancellationToken cancellationToken)
    {
        if (ProductLinks.ProductIdOf(click.Link) is not { } productId)
        {
            return templates.Find(delivery.Template)?.Links.GetValueOrDefault(click.Link);
        }

        if ((await profiles.GetAsync(click.Customer, cancellationToken))?.Value.ShopDomain is not { } shop)
        {
            return null;
        }

        var found = await catalog.GetProductsAsync(click.Customer.Platform, shop, [productId], cancellationToken);
        return found.TryGetValue(productId, out var facts) ? facts.Url : null;
    }
}
