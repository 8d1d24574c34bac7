using System.Globalization;
using Nudge.Core.Customers;

namespace Nudge.Core.Imports;

/// <summary>What an import brings: customers or orders (wire names, never renamed).</summary>
public static class ImportKinds
{
    public const string Customers = "customers";
    public const string Orders = "orders";

    public static bool IsKnown(string? kind) => kind is Customers or Orders;
}

/// <summary>One customer row, validated whole: every column given is well formed, or the row is skipped.</summary>
public sealed record ImportedCustomer(
    string CustomerId, string? Email, string? Phone, string? FirstName, DateTimeOffset? CreatedAt, bool? EmailConsent, bool? SmsConsent,
    bool? NightConsent, DateTimeOffset? LastLoginAt, long? Points, string? TimeZone);

public sealed record ImportedOrder(string OrderId, string CustomerId, DateTimeOffset CreatedAt, decimal? Total, string? Currency);

/// <summary>
/// The CSV columns an import understands and how a row of them is read. A header names columns of its kind only
/// (any order, each once; the id columns required); times are ISO 8601, taken in the row's <c>time_zone</c> (else the
/// shop's) when they carry no offset; consent is the shop's record, <c>subscribed</c> or <c>unsubscribed</c>.
/// </summary>
public sealed class ImportHeader
{
    public static IReadOnlyList<string> CustomerColumns { get; } =
        ["customer_id", "email", "phone", "first_name", "created_at", "email_marketing_consent", "sms_marketing_consent", "night_consent", "last_login_at", "points", "time_zone"];

    public static IReadOnlyList<string> OrderColumns { get; } = ["order_id", "customer_id", "created_at", "total", "currency"];

    private const int MaxIdLength = 128;
    private readonly Dictionary<string, int> _columns;

    private ImportHeader(string kind, Dictionary<string, int> columns)
    {
        Kind = kind;
        _columns = columns;
    }

    public string Kind { get; }

    public int Width => _columns.Count;

    /// <summary>The header of a file of <paramref name="kind"/>, or why it is not one.</summary>
    public static (ImportHeader? Header, string? Error) Parse(string kind, IReadOnlyList<string> fields)
    {
        var known = kind == ImportKinds.Customers ? CustomerColumns : OrderColumns;
        var required = kind == ImportKinds.Customers ? ["customer_id"] : new[] { "order_id", "customer_id", "created_at" };
        var columns = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < fields.Count; i++)
        {
            var name = fields[i].Trim().ToLowerInvariant();
            if (!known.Contains(name))
            {
                return (null, $"column {i + 1} ('{Truncate(name)}') is not one of {string.Join(", ", known)}");
            }

            if (!columns.TryAdd(name, i))
            {
                return (null, $"column '{name}' is named twice");
            }
        }

        var missing = required.Where(r => !columns.ContainsKey(r)).ToList();
        return missing.Count > 0 ? (null, $"the header needs {string.Join(", ", missing)}") : (new ImportHeader(kind, columns), null);
    }

    public (ImportedCustomer? Row, string? Error) ParseCustomer(IReadOnlyList<string> fields, TimeZoneInfo shopZone)
    {
        var row = new Reader(this, fields);
        var timeZone = row.Text("time_zone", 64);
        var zone = shopZone;
        if (timeZone is not null && !TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out zone!))
        {
            row.Fail("time_zone", "is not an IANA time zone");
            zone = shopZone;
        }

        var customer = new ImportedCustomer(
            row.Id("customer_id"), row.Email("email"), row.Phone("phone"), row.Text("first_name", 256), row.Time("created_at", zone),
            row.Consent("email_marketing_consent"), row.Consent("sms_marketing_consent"), row.Consent("night_consent"),
            row.Time("last_login_at", zone), row.Points("points"), timeZone);
        return row.Result(customer);
    }

    public (ImportedOrder? Row, string? Error) ParseOrder(IReadOnlyList<string> fields, TimeZoneInfo shopZone)
    {
        var row = new Reader(this, fields);
        var total = row.Amount("total");
        var currency = row.Currency("currency");
        if (total is not null && currency is null)
        {
            row.Fail("currency", "is required with a total");
        }

        var createdAt = row.Time("created_at", shopZone);
        if (createdAt is null)
        {
            row.Fail("created_at", "is required");
        }

        var order = new ImportedOrder(row.Id("order_id"), row.Id("customer_id"), createdAt ?? default, total, currency);
        return row.Result(order);
    }

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>Reads one row's columns, keeping the first problem; personal data never goes into a message.</summary>
    private sealed class Reader(ImportHeader header, IReadOnlyList<string> fields)
    {
        private string? _error = fields.Count != header.Width ? $"has {fields.Count} fields, the header {header.Width}" : null;

        public void Fail(string column, string problem) => _error ??= $"{column} {problem}";

        public (T? Row, string? Error) Result<T>(T row) where T : class => _error is null ? (row, null) : (null, _error);

        private string? Raw(string column) =>
            header._columns.TryGetValue(column, out var i) && i < fields.Count && fields[i].Trim() is { Length: > 0 } value ? value : null;

        public string? Text(string column, int maxLength)
        {
            var value = Raw(column);
            if (value is not null && (value.Length > maxLength || value.Any(char.IsControl)))
            {
                Fail(column, $"must be at most {maxLength} characters without control characters");
                return null;
            }

            return value;
        }

        public string Id(string column)
        {
            var value = Text(column, MaxIdLength);
            if (value is null)
            {
                Fail(column, "is required");
            }

            return value ?? "";
        }

        public string? Email(string column)
        {
            var value = Text(column, 254);
            if (value is not null && (value.IndexOf('@') is <= 0 || value.EndsWith('@') || value.Contains(' ')))
            {
                Fail(column, "is not an email address");
            }

            return value;
        }

        public string? Phone(string column)
        {
            var value = Text(column, 32);
            if (value is not null && (!value.Any(char.IsAsciiDigit) || !value.All(c => char.IsAsciiDigit(c) || c is '+' or '-' or ' ' or '(' or ')')))
            {
                Fail(column, "is not a phone number");
            }

            return value;
        }

        public DateTimeOffset? Time(string column, TimeZoneInfo zone)
        {
            var value = Raw(column);
            if (value is null)
            {
                return null;
            }

            if (!DateTime.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var parsed)
                || !DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var withOffset))
            {
                Fail(column, "is not an ISO 8601 time");
                return null;
            }

            if (parsed.Kind != DateTimeKind.Unspecified)
            {
                return withOffset;
            }

            // No offset: a time on the shop's (or the row's) clock.
            return zone.IsInvalidTime(parsed) ? new DateTimeOffset(parsed, zone.GetUtcOffset(parsed.AddHours(-1))) : new DateTimeOffset(parsed, zone.GetUtcOffset(parsed));
        }

        public bool? Consent(string column)
        {
            switch (Raw(column)?.ToLowerInvariant())
            {
                case null:
                    return null;
                case "subscribed":
                    return true;
                case "unsubscribed" or "not_subscribed":
                    return false;
                default:
                    Fail(column, "must be subscribed or unsubscribed");
                    return null;
            }
        }

        public long? Points(string column)
        {
            var value = Raw(column);
            if (value is null)
            {
                return null;
            }

            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var points) || points > 1_000_000_000_000)
            {
                Fail(column, "must be a whole number from 0 to 10^12");
                return null;
            }

            return points;
        }

        public decimal? Amount(string column)
        {
            var value = Raw(column);
            if (value is null)
            {
                return null;
            }

            if (!decimal.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) || amount > 1_000_000_000_000m)
            {
                Fail(column, "must be a non-negative amount such as 39000 or 12.50");
                return null;
            }

            return amount;
        }

        public string? Currency(string column)
        {
            var value = Raw(column);
            if (value is not null && (value.Length != 3 || !value.All(char.IsAsciiLetter)))
            {
                Fail(column, "must be a three-letter ISO 4217 code");
                return null;
            }

            return value?.ToUpperInvariant();
        }
    }
}
