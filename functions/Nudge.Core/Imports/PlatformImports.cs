using Nudge.Core.Consent;
using Nudge.Core.Customers;
using Nudge.Core.Events;
using Nudge.Core.Ingest;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Imports;

/// <summary>
/// Reads every customer or order of a shop from its platform's Admin API, a page at a time from a cursor the source
/// defines, so an import can save where it got to after each page and go on from there after a crash.
/// </summary>
public interface IPlatformImportSource
{
    /// <summary>The platform whose shops this source reads (<c>shopify</c>, <c>woocommerce</c>, <c>cafe24</c>).</summary>
    string Platform { get; }

    /// <summary>
    /// The page after <paramref name="cursor"/> (null: the first) of <paramref name="kind"/>, records in the platform's
    /// webhook shape. The same cursor gives the same records again (a page re-read after a crash is applied once more,
    /// harmlessly). Throws <see cref="PlatformImportException"/> when the platform refuses for good.
    /// </summary>
    Task<PlatformImportPage> ReadAsync(ShopAccount shop, string kind, string? cursor, CancellationToken cancellationToken);
}

/// <summary>
/// One page: its records, the cursor of the next page (null: the listing is done) and how many records the platform
/// says there are in all (null when it does not say). A page may be empty with a next cursor (a Shopify bulk
/// operation still running).
/// </summary>
public sealed record PlatformImportPage(IReadOnlyList<ReadOnlyMemory<byte>> Records, string? Next, long? Expected);

/// <summary>The platform refused the import for good (revoked credentials, an unknown shop): the import fails with this reason.</summary>
public sealed class PlatformImportException(string message) : Exception(message);

/// <summary>
/// A platform record as an import row, through the platform's webhook mapping (the field names of a record and of its
/// webhook are the same), so each platform field has one mapping: a customer is read as its signup, an order as its
/// creation. Consent the record states is the shop's record, as of the record's own update time.
/// </summary>
public static class PlatformImportRows
{
    public static bool IsKnown(string platform) => ReconcileMapping.All.ContainsKey(platform);

    /// <summary>The customer, its facts' time (newest wins against webhooks), or why the record is skipped.</summary>
    public static (ImportedCustomer? Row, DateTimeOffset AsOf, string? Problem) Customer(string platform, string shopDomain, ReadOnlyMemory<byte> record)
    {
        var map = ReconcileMapping.All[platform];
        var (signup, problem) = Mapped(map.Parse(map.SignupTopic, shopDomain, "import", record));
        if (signup is null)
        {
            return (null, default, problem);
        }

        var contact = signup.Contact;
        var stated = contact?.ConsentStated;
        bool? Stated(string medium, Func<MarketingConsent, bool> pick) =>
            contact?.Consent is { } consent && (stated is null || stated.Contains(medium)) ? pick(consent) : null;
        var row = new ImportedCustomer(
            signup.Customer.CustomerId, contact?.Email, contact?.Phone, contact?.FirstName, signup.OccurredAt,
            Stated(ConsentMedia.Email, c => c.Email), Stated(ConsentMedia.Sms, c => c.Sms), Stated(ConsentMedia.Night, c => c.NightAds),
            LastLoginAt: null, Points: signup.PointsBalance, TimeZone: null);
        return (row, contact?.UpdatedAt ?? signup.OccurredAt, null);
    }

    /// <summary>The order (a guest's or a malformed one is skipped with the reason).</summary>
    public static (ImportedOrder? Row, string? Problem) Order(string platform, string shopDomain, ReadOnlyMemory<byte> record)
    {
        var map = ReconcileMapping.All[platform];
        var (order, problem) = Mapped(map.Parse(map.OrderTopic, shopDomain, "import", record));
        return order is null ? (null, problem)
            : (new ImportedOrder(order.SubjectId ?? order.EventId, order.Customer.CustomerId, order.OccurredAt, order.Value?.Amount, order.Value?.Currency), null);
    }

    private static (CustomerEvent? Event, string? Problem) Mapped(IngestParse parse) => parse switch
    {
        IngestParse.Mapped { Event: var evt } => (evt, null),
        IngestParse.Ignored { Reason: var reason } => (null, reason),
        IngestParse.Invalid { Detail: var detail } => (null, detail),
        _ => (null, "the record maps to no customer"),
    };
}
