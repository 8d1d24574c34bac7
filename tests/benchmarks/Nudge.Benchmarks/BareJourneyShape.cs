using System.Globalization;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Nudge.App.Journeys;

namespace Nudge.Benchmarks;

/// <summary>
/// The baseline of the journey benchmark: an orchestration of the welcome journey's shape that does nothing else —
/// an activity, a durable timer raced with an external event, an activity; no-op activities, no Nudge stores. It is
/// declared as the app's functions are, so the benchmark runs it on the app's own <c>LocalTaskHub</c> (same backend
/// settings, same polling, same shims) in a task hub of its own.
/// </summary>
public sealed class BareJourneyShape
{
    public const string Name = "BareJourneyShape";
    public const string FirstActivity = "BareFirstStep";
    public const string LastActivity = "BareLastStep";

    /// <param name="context">Its input is the timer's due time (UTC, round-trip format), fixed when the instance is
    /// started, as a journey's wait is due from the moment its instance was started.</param>
    [Function(Name)]
    public async Task<string> RunAsync([OrchestrationTrigger] TaskOrchestrationContext context)
    {
        var due = DateTime.Parse(context.GetInput<string>()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        await context.CallActivityAsync<bool>(FirstActivity, "first");
        using var other = new CancellationTokenSource();
        var timer = context.CreateTimer(due, other.Token);
        var news = context.WaitForExternalEvent<string>(JourneyOrchestration.NewsEvent, other.Token);
        await Task.WhenAny(timer, news);
        other.Cancel();
        await context.CallActivityAsync<bool>(LastActivity, "last");
        return "done";
    }

    [Function(FirstActivity)]
    public Task<bool> FirstAsync([ActivityTrigger] string input) => Task.FromResult(true);

    [Function(LastActivity)]
    public Task<bool> LastAsync([ActivityTrigger] string input) => Task.FromResult(true);
}
