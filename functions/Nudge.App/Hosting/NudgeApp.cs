using System.Text.Json;
using Microsoft.Extensions.Options;
using Nudge.App.Delivery;
using Nudge.App.Functions;
using Nudge.Core.Ingest;
using Nudge.Core.Journeys;
using Nudge.Core.Pipeline;
using Nudge.Core.Time;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>The composition root: settings, storage, the virtual clock, handlers, endpoints and the local trigger driver.</summary>
public static class NudgeApp
{
    public const string DefaultLocalUrl = "http://127.0.0.1:7071";

    /// <summary>Set by the Functions host for a custom handler: the port to listen on.</summary>
    public const string CustomHandlerPortSetting = "FUNCTIONS_CUSTOMHANDLER_PORT";

    public const string ClockSpeedSetting = "NUDGE_CLOCK_SPEED";

    public static async Task<WebApplication> BuildAsync(
        string[] args, Action<WebApplicationBuilder>? configure = null, Azure.Core.Pipeline.HttpPipelinePolicy? storageObserver = null, CancellationToken cancellationToken = default)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder);
        var configuration = builder.Configuration;
        var services = builder.Services;

        var customHandlerPort = configuration[CustomHandlerPortSetting];
        var underFunctionsHost = !string.IsNullOrEmpty(customHandlerPort);
        if (underFunctionsHost)
        {
            builder.WebHost.UseUrls($"http://127.0.0.1:{customHandlerPort}");
        }
        else if (string.IsNullOrEmpty(configuration["urls"]))
        {
            builder.WebHost.UseUrls(DefaultLocalUrl);
        }

        services.AddProblemDetails();
        services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "Nudge";
            document.Info.Description = "Shop webhooks in; journeys, deliveries and simulations for marketers (x-api-key).";
            return Task.CompletedTask;
        }));
        services.AddOptions<NudgeOptions>().BindConfiguration(NudgeOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ShopifyOptions>().BindConfiguration(ShopifyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Cafe24Options>().BindConfiguration(Cafe24Options.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(ShopRegistryFrom(configuration));

        var storageOptions = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        if (underFunctionsHost && storageOptions.Prefix.Length > 0)
        {
            throw new OptionsValidationException(StorageOptions.Section, typeof(StorageOptions),
                ["Nudge:Storage:Prefix must be empty under the Functions host: its queue triggers listen on the names in function.json."]);
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
        services.AddSingleton<IProfileStore, TableProfileStore>();
        services.AddSingleton<IJourneyInstanceStore, TableJourneyInstanceStore>();
        services.AddSingleton<IDeliveryLog, TableDeliveryLog>();
        services.AddSingleton<IRawPayloadStore, BlobRawPayloadStore>();
        services.AddSingleton<StorageWorkQueue>();
        services.AddSingleton<IWorkQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IPrivacyQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IPriceDropQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IIntakeQueue>(sp => sp.GetRequiredService<StorageWorkQueue>());
        services.AddSingleton<IPipelineDeadLetters, StoragePoisonQueues>();
        services.AddSingleton<IProductInterestIndex, TableProductInterestIndex>();
        services.AddSingleton<IPrivacyAuditLog, TablePrivacyAuditLog>();
        services.AddSingleton<ICatalogStore, TableCatalogStore>();
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
        services.AddSingleton<JourneyRunner>();
        services.AddSingleton<JourneyEventHandler>();
        services.AddSingleton<JourneyTimerHandler>();
        services.AddSingleton<DeliveryHandler>();
        services.AddSingleton<DispatchSweepHandler>();
        services.AddSingleton<PrivacyHandler>();
        services.AddSingleton<CatalogHandler>();
        services.AddSingleton<IReconcileCursorStore, TableReconcileCursorStore>();
        services.AddHttpClient(Reconciliation.AdminApis.HttpClientName, client => client.Timeout = TimeSpan.FromSeconds(30));
        services.AddSingleton<IShopAdminApi, Reconciliation.ShopifyAdminClient>();
        services.AddSingleton<IShopAdminApi, Reconciliation.WooCommerceAdminClient>();
        services.AddSingleton<IAdminTokenStore, TableAdminTokenStore>();
        services.AddSingleton<Reconciliation.Cafe24AdminTokens>();
        services.AddSingleton<IShopAdminApi, Reconciliation.Cafe24AdminClient>();
        services.AddSingleton<ReconcileHandler>();

        var manifest = FunctionManifest.Load(AppContext.BaseDirectory);
        services.AddSingleton(manifest);
        services.AddSingleton(new FunctionDispatcher(manifest, TriggerFunctions.All));
        services.AddScoped<InvocationMetadata>();
        var localTriggers = configuration.GetValue<bool?>($"{NudgeOptions.Section}:{nameof(NudgeOptions.LocalTriggers)}") ?? !underFunctionsHost;
        if (localTriggers)
        {
            services.AddHostedService<LocalTriggerDriver>();
        }

        var app = builder.Build();
        await app.Services.GetRequiredService<JourneyLibrary>().SeedAsync(JourneyCatalog.OnByDefault, cancellationToken);
        await app.Services.GetRequiredService<SegmentLibrary>().SeedAsync(JourneyCatalog.PresetSegments, cancellationToken);
        MapEndpoints(app);
        return app;
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

    private static readonly JsonSerializerOptions InvocationJson = new() { PropertyNameCaseInsensitive = true };

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

    private static void MapEndpoints(WebApplication app)
    {
        app.UseStatusCodePages();
        app.MapPost("/api/webhooks/shopify", ShopifyWebhookFunction.HandleAsync);
        app.MapPost("/api/webhooks/woocommerce", WooCommerceWebhookFunction.HandleAsync);
        app.MapPost("/api/webhooks/cafe24", Cafe24WebhookFunction.HandleAsync);
        app.MapPost("/api/events", EventsApiFunction.HandleSingleAsync);
        app.MapPost("/api/events/batch", EventsApiFunction.HandleBatchAsync);
        app.MapPost("/api/pipeline/replay", PipelineReplayFunction.HandleAsync).AddEndpointFilter(Http.RequireMarketerKey);
        app.MapGet("/api/deliveries", DeliveriesFunction.HandleAsync);
        JourneysFunctions.Map(app);
        SegmentsFunctions.Map(app);
        app.MapOpenApi("/api/openapi.json");

        ChannelComposition.MapEndpoints(app);
        app.MapGet("/api/health", (VirtualClock clock) => Results.Json(new { status = "ok", now = clock.GetUtcNow(), clockSpeed = clock.Speed }));

        // Non-HTTP triggers, as the Functions host invokes a custom handler: POST /{FunctionName}.
        app.MapPost("/{functionName}", async (string functionName, HttpRequest request, FunctionDispatcher dispatcher, IServiceProvider services, CancellationToken cancellationToken) =>
        {
            if (!dispatcher.Has(functionName))
            {
                return Http.Problem(StatusCodes.Status404NotFound, "Unknown function", $"No non-HTTP function is named '{functionName}'.");
            }

            InvocationRequest? invocation;
            try
            {
                invocation = await JsonSerializer.DeserializeAsync<InvocationRequest>(request.Body, InvocationJson, cancellationToken);
            }
            catch (JsonException)
            {
                invocation = null;
            }

            if (invocation is null || !dispatcher.CarriesTrigger(functionName, invocation))
            {
                return Http.Problem(StatusCodes.Status400BadRequest, "Invalid invocation", "The body must be a Functions custom-handler invocation request carrying the trigger's data.");
            }

            await dispatcher.InvokeAsync(functionName, invocation, services, cancellationToken);
            return Results.Json(new InvocationResponse([], [], null));
        });
    }
}
