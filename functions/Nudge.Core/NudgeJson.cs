using System.Text.Json;

namespace Nudge.Core;

/// <summary>The one JSON shape for everything Nudge persists or sends: camelCase, web defaults.</summary>
public static class NudgeJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { AllowOutOfOrderMetadataProperties = true };
}
