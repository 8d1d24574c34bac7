using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nudge.Core.Events;

namespace Nudge.Core.Ingest;

/// <summary>Tolerant readers for source payloads: a field of the wrong shape reads as absent, never as an exception.</summary>
public static partial class JsonFields
{
    /// <summary>Ids and delivery ids become table keys: accept letters, digits and '.', '_', ':', '-' and nothing that could break a key.</summary>
    public static bool IsValidId(string? id) => id is not null && IdPattern().IsMatch(id);

    /// <summary>Parses a JSON object, or says why the body is not one. The caller disposes the document.</summary>
    public static JsonDocument? ParseObject(ReadOnlySpan<byte> body, out string? error)
    {
        error = null;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                return document;
            }

            document.Dispose();
            error = "The body must be a JSON object.";
        }
        catch (JsonException)
        {
            error = "The body is not valid JSON.";
        }

        return null;
    }

    public static bool TryGetId(JsonElement element, string name, out string id)
    {
        id = element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) ? IdOf(value) : "";
        return id.Length > 0;
    }

    public static string IdOf(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number when value.TryGetInt64(out var n) && n > 0 => n.ToString(CultureInfo.InvariantCulture),
        JsonValueKind.String when TextOf(value) is { } text && IsValidId(text) => text,
        _ => "",
    };

    public static bool TryGetTime(JsonElement element, string name, out DateTimeOffset time) =>
        TryGetTime(element, name, TimeSpan.Zero, out time);

    /// <summary>A timestamp; one written without an offset is read at <paramref name="offsetIfNone"/> (a source's local time).</summary>
    public static bool TryGetTime(JsonElement element, string name, TimeSpan offsetIfNone, out DateTimeOffset time)
    {
        time = default;
        return GetString(element, name) is { } text && TryParseTime(text, offsetIfNone, out time);
    }

    /// <summary>An ISO 8601 (or similar) timestamp; without an offset it is read at <paramref name="offsetIfNone"/>.</summary>
    public static bool TryParseTime(string? text, TimeSpan offsetIfNone, out DateTimeOffset time)
    {
        time = default;
        if (text is null || !DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.RoundtripKind, out var parsed)
            || !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal, out var withOffset))
        {
            return false;
        }

        // A year Nudge can carry in every store and timer (Azure Tables start at 1601); "0000-00-00" does not parse at all.
        time = parsed.Kind == DateTimeKind.Unspecified ? new DateTimeOffset(parsed, offsetIfNone) : withOffset;
        return time.Year is >= 1700 and <= 9000;
    }

    /// <summary>The first of <paramref name="names"/> that holds a timestamp.</summary>
    public static bool TryGetFirstTime(JsonElement element, out DateTimeOffset time, params ReadOnlySpan<string> names)
    {
        foreach (var name in names)
        {
            if (TryGetTime(element, name, out time))
            {
                return true;
            }
        }

        time = default;
        return false;
    }

    /// <summary>A non-blank string field; blank (Shopify sends "" for what an app may not see) reads as absent.</summary>
    public static string? GetString(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && TextOf(value) is { } s && !string.IsNullOrWhiteSpace(s) ? s : null;

    /// <summary>
    /// A JSON string's text, or null for one that holds no text: an escaped lone UTF-16 surrogate (<c>"\ud800"</c>) is
    /// valid JSON but cannot become a string, and such a field reads as absent rather than failing the delivery.
    /// </summary>
    public static string? TextOf(JsonElement value)
    {
        try
        {
            return value.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    public static JsonElement GetObject(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : default;

    public static IEnumerable<JsonElement> GetArray(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray()
            : [];

    /// <summary>A decimal written as a JSON number or a numeric string (Shopify and WooCommerce send prices as strings).</summary>
    public static decimal? GetDecimal(JsonElement element, string name)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value))
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.Number when value.TryGetDecimal(out var d) => d,
            JsonValueKind.String when decimal.TryParse(TextOf(value), NumberStyles.Number, CultureInfo.InvariantCulture, out var d) => d,
            _ => null,
        };
    }

    public static long? GetInt64(JsonElement element, string name) =>
        GetDecimal(element, name) is { } d && d == decimal.Truncate(d) && d is >= long.MinValue and <= long.MaxValue ? (long)d : null;

    public static bool? GetBoolean(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    public static Money? MoneyOf(JsonElement element, string amountName, string? currency) =>
        GetDecimal(element, amountName) is { } amount && currency is { Length: 3 } ? new Money(amount, currency.ToUpperInvariant()) : null;

    /// <summary>Line items in the common shape (product_id, variant_id, quantity, price, title); lines without a product are skipped.</summary>
    public static IReadOnlyList<LineItem> LineItems(JsonElement owner, string arrayName, string? currency, string variantName = "variant_id")
    {
        var items = new List<LineItem>();
        foreach (var line in GetArray(owner, arrayName))
        {
            if (!TryGetId(line, "product_id", out var productId))
            {
                continue;
            }

            var variantId = TryGetId(line, variantName, out var v) ? v : null;
            var quantity = GetInt64(line, "quantity") is { } q and > 0 and < int.MaxValue ? (int)q : 1;
            items.Add(new LineItem(productId, variantId, quantity, MoneyOf(line, "price", currency), GetString(line, "title") ?? GetString(line, "name")));
        }

        return items;
    }

    [GeneratedRegex("^[A-Za-z0-9._:-]{1,128}$")]
    private static partial Regex IdPattern();
}
