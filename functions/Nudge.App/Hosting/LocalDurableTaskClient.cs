using System.Diagnostics;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using CoreQuery = DurableTask.Core.Query.OrchestrationQuery;
using CoreStatus = DurableTask.Core.OrchestrationStatus;
using OrchestrationQuery = Microsoft.DurableTask.Client.OrchestrationQuery;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;

namespace Nudge.App.Hosting;

/// <summary>
/// The SDK's <see cref="DurableTaskClient"/> over the local task hub's Azure Storage backend: what a
/// <c>[DurableClient]</c> parameter is given in the local run. Inputs, outputs and event payloads are serialized with
/// the SDK's own JSON converter, as the orchestrations (run through the SDK's shims) read them.
/// </summary>
public sealed class LocalDurableTaskClient(AzureStorageOrchestrationService service) : DurableTaskClient("local")
{
    private static readonly Microsoft.DurableTask.DataConverter Converter = Microsoft.DurableTask.Converters.JsonDataConverter.Default;
    private static readonly TimeSpan PollingInterval = TimeSpan.FromMilliseconds(250);
    private static readonly CoreStatus[] NotFinished = [CoreStatus.Pending, CoreStatus.Running, CoreStatus.Suspended];

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instance = new OrchestrationInstance { InstanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N"), ExecutionId = Guid.NewGuid().ToString("N") };
        var started = new ExecutionStartedEvent(-1, Converter.Serialize(input))
        {
            Name = orchestratorName.Name,
            Version = options?.Version?.Version ?? string.Empty,
            OrchestrationInstance = instance,
            ScheduledStartTime = options?.StartAt?.UtcDateTime,
            ParentTraceContext = Activity.Current is { Id: { } id } activity ? new DurableTask.Core.Tracing.DistributedTraceContext(id, activity.TraceStateString) : null,
        };
        // Without statuses of its own, a start is refused while an instance with the id is not finished, as the
        // Functions host refuses it.
        var dedupe = options?.DedupeStatuses?.Select(s => Enum.Parse<CoreStatus>(s, ignoreCase: true)).ToArray() ?? NotFinished;
        await service.CreateTaskOrchestrationAsync(new TaskMessage { OrchestrationInstance = instance, Event = started }, dedupe);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new EventRaisedEvent(-1, Converter.Serialize(eventPayload)) { Name = eventName });

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionSuspendedEvent(-1, reason));

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        SendAsync(instanceId, new ExecutionResumedEvent(-1, reason));

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        service.ForceTerminateTaskOrchestrationAsync(instanceId, Converter.Serialize(options?.Output));

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        // The backend answers a purged instance with an empty state rather than none.
        var states = await service.GetOrchestrationStateAsync(instanceId, allExecutions: false);
        return states is [{ OrchestrationInstance: not null } state, ..] ? ToMetadata(state, getInputsAndOutputs) : null;
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null) =>
        Pageable.Create(async (continuation, pageSize, cancellation) =>
        {
            var query = new CoreQuery
            {
                RuntimeStatus = filter?.Statuses?.Select(s => (CoreStatus)(int)s).ToList(),
                CreatedTimeFrom = filter?.CreatedFrom?.UtcDateTime,
                CreatedTimeTo = filter?.CreatedTo?.UtcDateTime,
                PageSize = pageSize ?? filter?.PageSize ?? OrchestrationQuery.DefaultPageSize,
                ContinuationToken = continuation ?? filter?.ContinuationToken,
                InstanceIdPrefix = filter?.InstanceIdPrefix,
                FetchInputsAndOutputs = filter?.FetchInputsAndOutputs ?? false,
            };
            var result = await ((IOrchestrationServiceQueryClient)service).GetOrchestrationWithQueryAsync(query, cancellation);
            return new Page<OrchestrationMetadata>(result.OrchestrationState.Select(s => ToMetadata(s, query.FetchInputsAndOutputs)).ToList(), result.ContinuationToken);
        });

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation) is { RuntimeStatus: not OrchestrationRuntimeStatus.Pending } started)
            {
                return started;
            }

            await Task.Delay(PollingInterval, cancellation);
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            if (await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation) is { IsCompleted: true } completed)
            {
                return completed;
            }

            await Task.Delay(PollingInterval, cancellation);
        }
    }

    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await ((IOrchestrationServicePurgeClient)service).PurgeInstanceStateAsync(instanceId);
        return new PurgeResult(result.DeletedInstanceCount);
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task SendAsync(string instanceId, HistoryEvent message) =>
        service.SendTaskOrchestrationMessageAsync(new TaskMessage { OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId }, Event = message });

    private static OrchestrationMetadata ToMetadata(OrchestrationState state, bool withInputsAndOutputs) => new(state.Name, state.OrchestrationInstance.InstanceId)
    {
        RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
        CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc)),
        LastUpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc)),
        SerializedInput = withInputsAndOutputs ? state.Input : null,
        SerializedOutput = withInputsAndOutputs ? state.Output : null,
        SerializedCustomStatus = state.Status,
        DataConverter = Converter,
    };
}
