using System.Diagnostics;
using System.Text.Json;
using Nudge.Core;
using Nudge.Core.Pipeline;

namespace Nudge.Core.Tests;

/// <summary>How the pipeline's spans continue the traces their messages carry, and how messages carry them.</summary>
public sealed class PipelineTracingTests : IDisposable
{
    private const string WebhookA = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string WebhookB = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    private readonly ActivityListener _listener = new()
    {
        ShouldListenTo = source => source.Name == PipelineTracing.ActivitySourceName || source.Name == nameof(PipelineTracingTests),
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
    };

    private readonly ActivitySource _host = new(nameof(PipelineTracingTests));

    public PipelineTracingTests() => ActivitySource.AddActivityListener(_listener);

    public void Dispose()
    {
        _listener.Dispose();
        _host.Dispose();
    }

    [Fact]
    public void StartContinuing_OneTrace_ContinuesItAndLinksTheInvocation()
    {
        using var invocation = _host.StartActivity("invocation");

        using var span = PipelineTracing.StartContinuing("process", ActivityKind.Consumer, [WebhookA, WebhookA, null]);

        Assert.Equal(ActivityContext.Parse(WebhookA, null).TraceId, span!.TraceId);
        Assert.Equal(ActivityContext.Parse(WebhookA, null).SpanId, span.ParentSpanId);
        Assert.Equal([invocation!.Context], span.Links.Select(l => l.Context));
    }

    [Fact]
    public void StartContinuing_SeveralTraces_ChildOfTheInvocationLinkedToEach()
    {
        using var invocation = _host.StartActivity("invocation");

        using var span = PipelineTracing.StartContinuing("process", ActivityKind.Consumer, [WebhookA, WebhookB]);

        Assert.Equal(invocation!.SpanId, span!.ParentSpanId);
        Assert.Equal(invocation.TraceId, span.TraceId);
        Assert.Equal(new[] { WebhookA, WebhookB }.Select(t => ActivityContext.Parse(t, null).TraceId), span.Links.Select(l => l.Context.TraceId));
    }

    [Fact]
    public void StartContinuing_TheCurrentTraceAlready_ChildOfTheCurrentSpan()
    {
        using var batch = PipelineTracing.StartContinuing("process", ActivityKind.Consumer, [WebhookA]);

        using var perEvent = PipelineTracing.StartContinuing("journey event", ActivityKind.Internal, [WebhookA]);

        Assert.Equal(batch!.SpanId, perEvent!.ParentSpanId);
        Assert.Empty(perEvent.Links);
    }

    [Fact]
    public void DeliveryMessage_TraceParentIsAnOptionalProperty()
    {
        var untraced = new DeliveryMessage("shopify", "7001", "d1");
        var traced = untraced with { TraceParent = WebhookA };

        var untracedJson = JsonSerializer.Serialize(untraced, NudgeJson.Options);
        var tracedJson = JsonSerializer.Serialize(traced, NudgeJson.Options);

        Assert.DoesNotContain("traceparent", untracedJson, StringComparison.OrdinalIgnoreCase);
        Assert.Contains($"\"traceparent\":\"{WebhookA}\"", tracedJson);
        Assert.Equal(traced, JsonSerializer.Deserialize<DeliveryMessage>(tracedJson, NudgeJson.Options));
        Assert.Equal(untraced, JsonSerializer.Deserialize<DeliveryMessage>("""{"platform":"shopify","customerId":"7001","deliveryId":"d1","order":null}""", NudgeJson.Options));
    }
}
