using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Options;
using Nudge.App.Delivery;
using Nudge.Core.Ingest;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>The composition root, for both hosts: the Functions host (isolated worker) and the local run on Kestrel.</summary>
public static class NudgeApp
{
    public const string DefaultLocalUrl = "http://127.0.0.1:7071";

    public const string ClockSpeedSetting = "NUDGE_CLOCK_SPEED";

    /// <summary>The local run: the app's functions on Kestrel, their queue and timer triggers fired in process.</summary>
    public static async Task<WebApplication> BuildAsync(
        string[] args, Action<WebApplicationBuilder>? configure = null, Azure.Core.Pipeline.HttpPipelinePolicy? storageObserver = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        // The task hub reports every poll and lease at Information: the console would show little else.
        builder.Logging.AddFilter("DurableTask", LogLevel.Warning);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultLocalUrl);
        }

        builder.Services.AddProblemDetails();
        var host = await AddNudgeAsync(builder.Services, builder.Configuration, underFunctionsHost: false, storageObserver, cancellationToken);
        builder.Services.AddSingleton(TaskHubSettingsFrom(builder.Configuration, host));
        builder.Services.AddSingleton<LocalTaskHub>();
        if (builder.Configuration.GetValue<bool?>($"{NudgeOptions.Section}:{nameof(NudgeOptions.LocalTriggers)}") ?? true)
        {
            // The task hub first: a queue function may hand work to the journeys as soon as it runs.
            builder.Services.AddHostedService(sp => sp.GetRequiredService<LocalTaskHub>());
            builder.Services.AddHostedService<LocalTriggerDriver>();
        }

        var app = builder.Build();
        await SeedAsync(app.Services, cancellationToken);
        app.UseStatusCodePages();
        LocalFunctionHost.MapHttpFunctions(app, FunctionCatalog.Default, host);
        app.MapFallback(() => Functions.Http.Problem(StatusCodes.Status404NotFound, "Not found", "No function answers at this path and method."));
        return app;
    }

    /// <summary>Under the Functions host (it starts this executable as its isolated worker): the same services, the host's triggers.</summary>
    public static async Task<IHost> BuildForFunctionsHostAsync(string[] args, CancellationToken cancellationToken = default)
    {
        var builder = FunctionsApplication.CreateBuilder(args);
        builder.ConfigureFunctionsWebApplication();
        builder.Services.AddProblemDetails();
        await AddNudgeAsync(builder.Services, builder.Configuration, underFunctionsHost: true, storageObserver: null, cancellationToken);
        var host = builder.Build();
        await SeedAsync(host.Services, cancellationToken);
        return host;
    }

    /// <summary>Whether the Functions host started this process: it passes the address of its worker channel.</summary>
    public static bool StartedByFunctionsHost(string[] args) => args.Contains("--functions-uri", StringComparer.Ordinal);

    private static async Task SeedAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.GetRequiredService<JourneyLibrary>().SeedAsync(JourneyCatalog.OnByDefault, cancellationToken);
        await services.GetRequiredService<SegmentLibrary>().SeedAsync(JourneyCatalog.PresetSegments, cancellationToken);
    }

    /// <summary>
    /// Telemetry, settings, storage, the virtual clock, stores, handlers and channels: everything both hosts share.
    /// Returns the host.json it registered (the local run maps its routes and triggers by it).
    /// </summary>
    private static async Task<HostJson> AddNudgeAsync(
        IServiceCollection services, IConfiguration configuration, bool underFunctionsHost, Azure.Core.Pipeline.HttpPipelinePolicy? storageObserver, CancellationToken cancellationToken)
    {
        NudgeTelemetry.Add(services, configuration, underFunctionsHost);
        // The queue functions read maxDequeueCount to know a message's last attempt, under either host.
        var host = HostJson.Load(AppContext.BaseDirectory);
        services.AddSingleton(host);
        services.AddOptions<NudgeOptions>().BindConfiguration(NudgeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ShopifyOptions>().BindConfiguration(ShopifyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Cafe24Options>().BindConfiguration(Cafe24Options.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(ShopRegistryFrom(configuration));

        var storageOptions = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        if (underFunctionsHost && storageOptions.Prefix.Length > 0)
        {
            throw new OptionsValidationException(StorageOptions.Section, typeof(StorageOptions),
                ["Nudge:Storage:Prefix must be empty under the Functions host: its queue triggers listen on the names in the [QueueTrigger] attributes."]);
        }

        var storage = StorageClients.FromConfiguration(configuration, storageOptions.Connection, storageObserver);
        var names = new StorageNames(storageOptions.Prefix);
        await new StorageProvisioner(storage, names).EnsureAsync(cancellationToken);
        var clock = new VirtualClock(TimeProvider.System,
            await new ClockAnchorStore(storage.Tables, names).ContinueAsync(TimeProvider.System.GetUtcNow(), ReadClockSpeed(configuration), cancellationToken));

        services.AddSingleton(storage);
        services.AddSingleton(names);
        services.AddSingleton(clock);
        services.AddSingleton<TimeProvider>(clock);
        services.AddSingleton(storage.Tables);
        services.AddSingleton(storage.Queues);
        services.AddSingleton(storage.Blobs);

        services.AddSingleton<IEventStore, TableEventStore>();
        services.AddSingleton<TableProfileStore>();
        services.AddSingleton<Core.Segments.SegmentIndex>();
        services.AddSingleton<IProfileStore>(sp => new Core.Segments.IndexedProfileStore(sp.GetRequiredService<TableProfileStore>(), sp.GetRequiredService<Core.Segments.SegmentIndex>()));
        services.AddSingleton(sp => new Core.Segments.SegmentIndexLoader(sp.GetRequiredService<TableProfileStore>(), sp.GetRequiredService<Core.Segments.SegmentIndex>(), TimeProvider.System)); // watermarks compare with the service's save times: real time
        services.AddHostedService<SegmentIndexStartup>();
        services.AddSingleton<IJourneyInstanceStore, TableJourneyInstanceStore>();
        services.AddSingleton<IDeliveryLog, TableDeliveryLog>();
        services.AddSingleton<IRawPayloadStore, BlobRawPayloadStore>();
        services.AddSingleton<StorageWorkQueue>();
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        DeliveryTransport.Add(services, configuration, underFunctionsHost, FunctionCatalog.Default);
        services.AddSingleton<IPrivacyQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IPriceDropQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IIntakeQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IPipelineDeadLetters, StoragePoisonQueues>();
        services.AddSingleton<IProductInterestIndex, TableProductInterestIndex>();
        services.AddSingleton<IPrivacyAuditLog, TablePrivacyAuditLog>();
        services.AddSingleton<ICatalogStore, TableCatalogStore>();
        services.AddSingleton<Core.Recommendations.IRelationsSnapshotStore, BlobRelationsSnapshotStore>();
        services.AddSingleton(sp => new Core.Recommendations.RecommendationModel(sp.GetRequiredService<Core.Recommendations.IRelationsSnapshotStore>(), TimeProvider.System)); // reloads follow other instances' rebuilds: real time
        services.AddSingleton<Core.Recommendations.CustomerRecommendations>();
        services.AddSingleton<IOrderIndex, TableOrderIndex>();
        services.AddSingleton<IChannelSender, LocalSinkSender>();
        ChannelComposition.AddChannels(services, configuration);

        services.AddOptions<CrossJourneyOptions>().BindConfiguration(CrossJourneyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new PipelineSettings(
            TimeZoneInfo.FindSystemTimeZoneById(sp.GetRequiredService<IOptions<NudgeOptions>>().Value.DefaultTimeZone),
            sp.GetRequiredService<IOptions<CrossJourneyOptions>>().Value.ToRules()));
        services.AddSingleton<RecentSends>();
        services.AddSingleton<IScheduleCursor, TableScheduleCursor>();
        services.AddSingleton<ISegmentStore, TableSegmentStore>();
        services.AddSingleton<SegmentLibrary>();
        services.AddSingleton<ScheduledEntryHandler>();
        services.AddSingleton<IJourneyDefinitionStore, TableJourneyDefinitionStore>();
        services.AddSingleton<JourneyLibrary>();
        services.AddSingleton<IJourneyCatalog>(sp => sp.GetRequiredService<JourneyLibrary>());
        services.AddSingleton<IngestHandler>();
        services.AddSingleton<GroupCommit>();
        services.AddSingleton<IngestBatchHandler>();
        services.AddSingleton<JourneyEventsEntry>();
        services.AddSingleton<ProfileUpdater>();
        services.AddSingleton<JourneyStarter>();
        services.AddSingleton<InstanceEffects>();
        services.AddSingleton<JourneyEventHandler>();
        services.AddSingleton<Core.Results.IResultsLedger, TableResultsLedger>();
        services.AddSingleton<Core.Results.ResultsRecorder>();
        services.AddSingleton<Core.Results.ConversionRecorder>();
        services.AddSingleton<Core.Results.ResultsService>();
        services.AddSingleton<IFrequencyCapLedger, TableFrequencyCapLedger>();
        services.AddSingleton<IMarketingJourneyLedger, TableMarketingJourneyLedger>();
        services.AddSingleton<DeliveryHandler>();
        services.AddSingleton<DispatchSweepHandler>();
        services.AddSingleton<PrivacyHandler>();
        services.AddSingleton<CatalogHandler>();
        services.AddSingleton<IReconcileCursorStore, TableReconcileCursorStore>();
        services.AddHttpClient(Reconciliation.AdminApis.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        AddAdminApi<Reconciliation.ShopifyAdminClient>(services);
        AddAdminApi<Reconciliation.WooCommerceAdminClient>(services);
        services.AddSingleton<IAdminTokenStore, TableAdminTokenStore>();
        services.AddSingleton<Reconciliation.Cafe24AdminTokens>();
        AddAdminApi<Reconciliation.Cafe24AdminClient>(services);
        services.AddSingleton<ReconcileHandler>();
        services.AddSingleton<Core.Imports.IImportStore, TableImportStore>();
        services.AddSingleton<Core.Imports.IImportFiles, BlobImportFiles>();
        services.AddSingleton<Core.Imports.IImportQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton(sp => new Core.Imports.ImportSettings(sp.GetRequiredService<IOptions<NudgeOptions>>().Value.ImportMaxUploadBytes));
        services.AddSingleton<Core.Imports.ImportHandler>();
        services.AddSingleton<ProfileEntry>();
        services.AddSingleton<Core.Segments.IAudienceRunStore, TableAudienceRunStore>();
        services.AddSingleton<Core.Segments.IAudienceQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton(new Core.Segments.AudienceSettings());
        services.AddSingleton(sp => new Core.Segments.AudiencePacing(sp.GetRequiredService<IRateLimitStore>(), TimeProvider.System));
        services.AddSingleton<Core.Segments.AudienceRunHandler>();

        services.AddSingleton(FunctionCatalog.Default);
        return host;
    }

    /// <summary>One Admin API client serves reconciliation and platform imports.</summary>
    private static void AddAdminApi<T>(IServiceCollection services) where T : class, IShopAdminApi, Core.Imports.IPlatformImportSource
    {
        services.AddSingleton<T>();
        services.AddSingleton<IShopAdminApi>(sp => sp.GetRequiredService<T>());
        services.AddSingleton<Core.Imports.IPlatformImportSource>(sp => sp.GetRequiredService<T>());
    }

    /// <summary>
    /// The task hub: named by <c>NUDGE_TASK_HUB</c> (as host.json's <c>hubName</c> reads it in Azure), with the storage prefix
    /// in its name so apps sharing one account (the tests) keep apart; partitions and polling from host.json.
    /// </summary>
    private static TaskHubSettings TaskHubSettingsFrom(IConfiguration configuration, HostJson host)
    {
        var name = configuration[TaskHubSettings.HubNameSetting] is { Length: > 0 } set ? set : TaskHubSettings.DefaultHubName;
        var prefix = new string((configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.Prefix)}"] ?? "").Where(char.IsAsciiLetterOrDigit).ToArray());
        return host.DurableTask with { HubName = name + prefix };
    }

    /// <summary>The shops from <c>Shops__N__*</c>, validated at start, with <c>Shopify__WebhookSecret</c> as the one-shop default.</summary>
    private static ShopRegistry ShopRegistryFrom(IConfiguration configuration)
    {
        var shops = configuration.GetSection(ShopOptions.Section).Get<List<ShopOptions>>() ?? [];
        var errors = new List<string>();
        foreach (var shop in shops)
        {
            var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(shop, new(shop), results, validateAllProperties: true))
            {
                errors.AddRange(results.Select(r => r.ErrorMessage ?? "invalid shop"));
            }
        }

        var duplicates = shops.GroupBy(s => (s.Platform.ToLowerInvariant(), s.Domain.ToLowerInvariant())).Where(g => g.Count() > 1).Select(g => $"Shop '{g.Key.Item2}' ({g.Key.Item1}) is listed twice.");
        errors.AddRange(duplicates);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(ShopOptions.Section, typeof(ShopOptions), errors);
        }

        return new ShopRegistry(shops.Select(s => s.ToAccount()),
            configuration[$"{ShopifyOptions.Section}:{nameof(ShopifyOptions.WebhookSecret)}"],
            configuration[$"{ShopifyOptions.Section}:{nameof(ShopifyOptions.PreviousWebhookSecret)}"]);
    }

    private static double ReadClockSpeed(IConfiguration configuration)
    {
        var text = configuration[ClockSpeedSetting];
        if (string.IsNullOrWhiteSpace(text))
        {
            return 1;
        }

        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var speed) || speed < 1 || speed > 1_000_000)
        {
            throw new OptionsValidationException(ClockSpeedSetting, typeof(double),
                [$"{ClockSpeedSetting} must be a number from 1 to 1000000 (virtual seconds per real second); got '{text}'."]);
        }

        return speed;
    }
}
