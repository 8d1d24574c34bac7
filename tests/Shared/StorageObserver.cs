using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Nudge.Testing;

/// <summary>Shows every storage request, once its response is in, to <paramref name="observe"/> with how long it took (tests and benchmarks count round trips with it).</summary>
public sealed class StorageObserver(Action<HttpMessage, TimeSpan> observe) : HttpPipelinePolicy
{
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var started = Stopwatch.GetTimestamp();
        ProcessNext(message, pipeline);
        observe(message, Stopwatch.GetElapsedTime(started));
    }

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        var started = Stopwatch.GetTimestamp();
        await ProcessNextAsync(message, pipeline);
        observe(message, Stopwatch.GetElapsedTime(started));
    }
}
