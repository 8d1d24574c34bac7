using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Nudge.App.Hosting;

/// <summary>The custom-handler invocation payload the Functions host posts to <c>/{FunctionName}</c> for non-HTTP triggers.</summary>
public sealed class InvocationRequest
{
    [JsonPropertyName("Data")]
    public Dictionary<string, JsonElement> Data { get; init; } = [];

    [JsonPropertyName("Metadata")]
    public Dictionary<string, JsonElement> Metadata { get; init; } = [];

    /// <summary>The trigger's payload as text: queue messages arrive as a JSON string holding the message body.</summary>
    public string TriggerText(string bindingName) =>
        Data.TryGetValue(bindingName, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : throw new InvalidDataException($"The invocation carries no '{bindingName}' data.");
}

/// <summary>What the host tells about the trigger besides its payload, for the handlers of one invocation (a scoped service).</summary>
public sealed class InvocationMetadata
{
    /// <summary>The queue message's id: the same on every redelivery of one message, different for a copy.</summary>
    public string? MessageId { get; private set; }

    public void Read(InvocationRequest request) =>
        MessageId = request.Metadata.TryGetValue("Id", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString() : null;
}

/// <summary>The custom-handler invocation response.</summary>
public sealed record InvocationResponse(
    [property: JsonPropertyName("Outputs")] Dictionary<string, object?> Outputs,
    [property: JsonPropertyName("Logs")] List<string> Logs,
    [property: JsonPropertyName("ReturnValue")] object? ReturnValue);

/// <summary>A non-HTTP function: parse the trigger payload, call one handler, report.</summary>
public delegate Task TriggerHandler(string triggerText, IServiceProvider services, CancellationToken cancellationToken);

/// <summary>
/// Routes trigger invocations to handlers by function name. Both the Functions host (over HTTP) and the local
/// driver (in process) come through here, and every trigger in function.json must have a handler.
/// </summary>
public sealed class FunctionDispatcher
{
    /// <summary>One activity per invocation, named after the function, so traces (and storage counts) group by function.</summary>
    public const string ActivitySourceName = "Nudge.Functions";

    public static readonly ActivitySource Activities = new(ActivitySourceName);

    private readonly Dictionary<string, (FunctionTrigger Trigger, TriggerHandler Handler)> _functions;

    public FunctionDispatcher(FunctionManifest manifest, IReadOnlyDictionary<string, TriggerHandler> handlers)
    {
        var nonHttp = manifest.Triggers.Where(t => t.Type != "httpTrigger").ToList();
        var missing = nonHttp.Select(t => t.FunctionName).Except(handlers.Keys).ToList();
        var undeclared = handlers.Keys.Except(nonHttp.Select(t => t.FunctionName)).ToList();
        if (missing.Count > 0 || undeclared.Count > 0)
        {
            throw new InvalidOperationException(
                $"function.json and handlers disagree. Without a handler: [{string.Join(", ", missing)}]; without a function.json: [{string.Join(", ", undeclared)}].");
        }

        _functions = nonHttp.ToDictionary(t => t.FunctionName, t => (t, handlers[t.FunctionName]));
    }

    public IEnumerable<FunctionTrigger> Triggers => _functions.Values.Select(f => f.Trigger);

    public bool Has(string functionName) => _functions.ContainsKey(functionName);

    public bool CarriesTrigger(string functionName, InvocationRequest request) =>
        request.Data.ContainsKey(_functions[functionName].Trigger.BindingName);

    public async Task InvokeAsync(string functionName, InvocationRequest request, IServiceProvider services, CancellationToken cancellationToken)
    {
        var (trigger, handler) = _functions[functionName];
        using var activity = Activities.StartActivity(functionName);
        services.GetService<InvocationMetadata>()?.Read(request);
        await handler(request.TriggerText(trigger.BindingName), services, cancellationToken);
    }
}
