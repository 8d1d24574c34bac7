using System.Text.Json;
using System.Text.Json.Serialization;
using System.Xml;

namespace Nudge.Core.Journeys;

/// <summary>Durations as ISO 8601 ("P2D", "PT30M"), which marketers and other tools read.</summary>
public sealed class IsoDurationConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        try
        {
            return XmlConvert.ToTimeSpan(text ?? "");
        }
        catch (FormatException)
        {
            throw new JsonException($"'{text}' is not an ISO 8601 duration such as P2D or PT30M.");
        }
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options) =>
        writer.WriteStringValue(XmlConvert.ToString(value));
}
