using System.Collections.Frozen;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Delivery;

namespace Nudge.Channels.Templates;

/// <summary>
/// One message template: Liquid sources for its parts, the message class it is written for, and the link targets
/// its <c>{{ links.name }}</c> placeholders point to (through the app's click redirect). A Kakao template also
/// names the AlimTalk template code Kakao approved for it.
/// </summary>
public sealed record MessageTemplate
{
    public required string Name { get; init; }
    public required string Channel { get; init; }
    public required MessageClass Class { get; init; }
    public required string Text { get; init; }
    public string? Subject { get; init; }
    public string? Html { get; init; }
    public string? KakaoTemplateCode { get; init; }
    public IReadOnlyDictionary<string, string> Links { get; init; } = FrozenDictionary<string, string>.Empty;

    /// <summary>
    /// At most this many products in <c>{{ recommendations }}</c> (0: the template shows none and none are looked up).
    /// Fewer go out when the channel's limit would be passed: the message is never cut.
    /// </summary>
    public int Recommendations { get; init; }
}

public interface ITemplateStore
{
    MessageTemplate? Find(string name);
}

/// <summary>
/// Templates shipped inside the app (<c>Templates/*.json</c>, embedded): they are versioned, reviewed and deployed
/// with the code, every worker renders the same text, and a redelivered message re-renders identically. A marketer-
/// edited store (Blob) can implement <see cref="ITemplateStore"/> later without touching the workers.
/// </summary>
public sealed class EmbeddedTemplateStore : ITemplateStore
{
    private const string ResourcePrefix = "Nudge.Templates.";

    private readonly FrozenDictionary<string, MessageTemplate> _templates = Load();

    public IReadOnlyCollection<string> Names => _templates.Keys;

    public MessageTemplate? Find(string name) => _templates.GetValueOrDefault(name);

    private static FrozenDictionary<string, MessageTemplate> Load()
    {
        var assembly = typeof(EmbeddedTemplateStore).Assembly;
        var templates = new Dictionary<string, MessageTemplate>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal)))
        {
            using var stream = assembly.GetManifestResourceStream(resource)!;
            var template = JsonSerializer.Deserialize<MessageTemplate>(stream, NudgeJson.Options)
                ?? throw new InvalidDataException($"Template resource '{resource}' is empty.");
            templates.Add(template.Name, template);
        }

        return templates.ToFrozenDictionary();
    }
}
