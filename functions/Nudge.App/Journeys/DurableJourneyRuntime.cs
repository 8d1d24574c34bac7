using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;

namespace Nudge.App.Journeys;

/// <summary>
/// The journey runtime on Durable Functions: one <see cref="JourneyOrchestration"/> per instance, reached through a
/// <see cref="DurableTaskClient"/> — the Functions host's (a <c>[DurableClient]</c> binding) or the local task hub's,
/// which runs the same orchestrations on the same Azure Storage backend.
/// </summary>
public sealed class DurableJourneyRuntime(DurableTaskClient client) : IJourneyRuntime
{
    /// <summary>How long an erasure waits for a terminated run to stop before it deletes its history.</summary>
    private static readonly TimeSpan TerminationWait = TimeSpan.FromSeconds(60);

    public Task<bool> StartAsync(JourneyInstance started, CancellationToken cancellationToken) =>
        StartAsync(new JourneyRun(started), cancellationToken);

    public async Task RaiseAsync(JourneyInstance instance, JourneyNews news, CancellationToken cancellationToken)
    {
        var id = OrchestrationIds.For(instance.InstanceId);
        // The backend drops an event for a run that does not exist (yet): such a run starts here, with the news. A
        // run that exists by now gets the news as an event.
        if (await client.GetInstanceAsync(id, cancellationToken) is null && await StartAsync(new JourneyRun(instance, news), cancellationToken))
        {
            return;
        }

        await client.RaiseEventAsync(id, JourneyOrchestration.NewsEvent, JourneyOrchestration.Write(news), cancellationToken);
    }

    private async Task<bool> StartAsync(JourneyRun run, CancellationToken cancellationToken)
    {
        var id = OrchestrationIds.For(run.Instance.InstanceId);
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(
                JourneyOrchestration.Name, JourneyOrchestration.Write(run), new StartOrchestrationOptions(id), cancellationToken);
            return true;
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // A run with the id exists already: this start repeats one whose hand-over went through (how a host
            // refuses it varies). Anything else is a failure to report.
            if (await client.GetInstanceAsync(id, cancellationToken) is null)
            {
                throw;
            }

            return false;
        }
    }

    public async Task EraseAsync(string instanceId, CancellationToken cancellationToken)
    {
        var id = OrchestrationIds.For(instanceId);
        if (await client.GetInstanceAsync(id, cancellationToken) is not { } run)
        {
            return;
        }

        if (!run.IsCompleted)
        {
            await client.TerminateInstanceAsync(id, "erased", cancellationToken);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TerminationWait);
            await client.WaitForInstanceCompletionAsync(id, wait.Token);
        }

        await client.PurgeInstanceAsync(id, cancellation: cancellationToken);
    }
}

/// <summary>
/// Orchestration instance ids from journey instance ids (journey, customer, business key, entry): the same instance
/// always gets the same id, so a repeated start finds its run. Characters the storage keys refuse are escaped; an
/// id too long for them is shortened with a hash of the whole.
/// </summary>
public static class OrchestrationIds
{
    private const int MaxLength = 200;

    public static string For(string journeyInstanceId)
    {
        var escaped = new StringBuilder(journeyInstanceId.Length);
        foreach (var c in journeyInstanceId)
        {
            if (c is '%' or '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                escaped.Append('%').Append(((int)c).ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
            else
            {
                escaped.Append(c);
            }
        }

        if (escaped.Length <= MaxLength)
        {
            return escaped.ToString();
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(journeyInstanceId)));
        return $"{escaped.ToString(0, MaxLength - hash.Length - 1)}~{hash}";
    }
}
