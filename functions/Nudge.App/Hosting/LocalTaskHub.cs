using System.Diagnostics;
using System.Reflection;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Nudge.Core.Time;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>The Durable Task settings the local run takes from host.json's <c>extensions.durableTask</c>, as the Functions host would.</summary>
public sealed record TaskHubSettings(string HubName, int PartitionCount, TimeSpan MaxQueuePollingInterval)
{
    public const string HubNameSetting = "NUDGE_TASK_HUB";
    public const string DefaultHubName = "NudgeJourneys";
}

/// <summary>
/// Runs the app's orchestrator and activity functions without the Functions host, on the Durable Task Framework's
/// Azure Storage backend — the backend and task-hub layout Durable Functions uses in Azure — against the app's storage
/// account (Azurite locally). Each <c>[OrchestrationTrigger]</c> / <c>[ActivityTrigger]</c> function is registered
/// through the SDK's shims under its function name, and <see cref="Client"/> is what a <c>[DurableClient]</c>
/// parameter receives.
/// </summary>
public sealed partial class LocalTaskHub : IHostedService, IAsyncDisposable
{
    private readonly AzureStorageOrchestrationService _service;
    private readonly TaskHubWorker _worker;

    public LocalTaskHub(FunctionCatalog catalog, StorageClients storage, TaskHubSettings settings, VirtualClock clock, IServiceProvider services, ILoggerFactory loggers)
    {
        var polling = LocalFunctionHost.PollingCap(clock, settings.MaxQueuePollingInterval, TimeSpan.FromMilliseconds(100));
        _service = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = settings.HubName,
            PartitionCount = settings.PartitionCount,
            MaxQueuePollingInterval = polling,
            // Work a killed process had taken comes back after these; the dispatchers renew them for longer work.
            ControlQueueVisibilityTimeout = InFlightLease,
            WorkItemQueueVisibilityTimeout = InFlightLease,
            // A start refused for an existing instance says so (the default is to drop it silently), as in the Functions host.
            ThrowExceptionOnInvalidDedupeStatus = true,
            StorageAccountClientProvider = ProviderFor(storage.Account ?? throw new InvalidOperationException("The local task hub needs the storage account's settings.")),
            LoggerFactory = loggers,
        });
        Client = new LocalDurableTaskClient(_service);
        _worker = new TaskHubWorker(_service, loggers);
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), loggers);
        foreach (var orchestrator in catalog.Orchestrators)
        {
            FunctionInvoker.EnsureBindable(orchestrator, p => p == orchestrator.TriggerParameter);
            _worker.AddTaskOrchestrations(new Creator<TaskOrchestration>(orchestrator.Name,
                () => shims.CreateOrchestration(new TaskName(orchestrator.Name), new OrchestratorFunction(orchestrator, services))));
        }

        foreach (var activity in catalog.Activities)
        {
            FunctionInvoker.EnsureBindable(activity, p => p == activity.TriggerParameter || p.ParameterType == typeof(CancellationToken));
            _worker.AddTaskActivities(new Creator<TaskActivity>(activity.Name,
                () => shims.CreateActivity(new TaskName(activity.Name), new ActivityFunction(activity, services))));
        }
    }

    /// <summary>How long messages the task hub is working on stay hidden (the backend's default is 5 minutes).</summary>
    private static readonly TimeSpan InFlightLease = TimeSpan.FromSeconds(10);

    public DurableTaskClient Client { get; }

    private static StorageAccountClientProvider ProviderFor(StorageAccount account)
    {
        T With<T>(T options) where T : Azure.Core.ClientOptions
        {
            if (account.Observer is { } observer)
            {
                options.AddPolicy(observer, Azure.Core.HttpPipelinePosition.PerCall);
            }

            return options;
        }

        var (blobs, queues, tables) = (With(new Azure.Storage.Blobs.BlobClientOptions()), With(new Azure.Storage.Queues.QueueClientOptions()), With(new Azure.Data.Tables.TableClientOptions()));
        return account.ConnectionString is { } connection
            ? new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(connection, blobs), StorageServiceClientProvider.ForQueue(connection, queues), StorageServiceClientProvider.ForTable(connection, tables))
            : new StorageAccountClientProvider(
                StorageServiceClientProvider.ForBlob(account.BlobUri, account.Credential!, blobs),
                StorageServiceClientProvider.ForQueue(account.QueueUri, account.Credential!, queues),
                StorageServiceClientProvider.ForTable(account.TableUri, account.Credential!, tables));
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await _service.CreateIfNotExistsAsync();
        await _worker.StartAsync();
    }

    /// <summary>Stops taking work, lets the work in hand finish and gives up the partitions, so a restarted app goes on at once.</summary>
    public Task StopAsync(CancellationToken cancellationToken) => _worker.StopAsync(isForced: false);

    public async ValueTask DisposeAsync()
    {
        _worker.Dispose();
        _service.Dispose();
        await Client.DisposeAsync();
    }

    /// <summary>Registers a shim under the function's name, versionless, as Durable Functions does.</summary>
    private sealed class Creator<T> : ObjectCreator<T>
    {
        private readonly Func<T> _create;

        public Creator(string name, Func<T> create)
        {
            _create = create;
            Name = name;
            Version = string.Empty;
        }

        public override T Create() => _create();
    }

    /// <summary>An orchestrator function as the SDK's orchestrator: its class made from the app's services, the context bound to its trigger.</summary>
    private sealed class OrchestratorFunction(FunctionEntry function, IServiceProvider services) : ITaskOrchestrator
    {
        public Type InputType => typeof(string);
        public Type OutputType => function.Method.ReturnType.IsGenericType ? function.Method.ReturnType.GetGenericArguments()[0] : typeof(object);

        public Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
            FunctionInvoker.InvokeAsync(function, services, (ParameterInfo p, out object? value) =>
            {
                value = context;
                return true;
            });
    }

    /// <summary>An activity function as the SDK's activity: a scope of its own per call, the input bound to its trigger.</summary>
    private sealed class ActivityFunction(FunctionEntry function, IServiceProvider services) : ITaskActivity
    {
        public Type InputType => function.TriggerParameter.ParameterType;
        public Type OutputType => function.Method.ReturnType.IsGenericType ? function.Method.ReturnType.GetGenericArguments()[0] : typeof(object);

        public async Task<object?> RunAsync(TaskActivityContext context, object? input)
        {
            using var activity = FunctionInvoker.Activities.StartActivity(function.Name);
            await using var scope = services.CreateAsyncScope();
            return await FunctionInvoker.InvokeAsync(function, scope.ServiceProvider, (ParameterInfo p, out object? value) =>
            {
                value = p == function.TriggerParameter ? input : CancellationToken.None;
                return true;
            });
        }
    }
}
