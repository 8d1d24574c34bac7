using Microsoft.Extensions.Options;
using Nudge.Channels;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Nudge.Channels.Routing;
using Nudge.Channels.Templates;
using Nudge.Core.Consent;
using Nudge.Core.Pipeline;
using Nudge.Storage;

namespace Nudge.App.Hosting;

/// <summary>The channel side of the composition root: options, templates, providers (by settings) and their endpoints.</summary>
public static class ChannelComposition
{
    /// <summary>Development values used only while no real provider is configured (the local sink delivers nowhere).</summary>
    public static readonly IReadOnlyDictionary<string, string> LocalDefaults = new Dictionary<string, string>
    {
        [nameof(ChannelOptions.SenderName)] = "넛지 데모샵",
        [nameof(ChannelOptions.OptOutNumber)] = "080-000-0000",
        [nameof(ChannelOptions.PublicBaseUrl)] = NudgeApp.DefaultLocalUrl,
        [nameof(ChannelOptions.LinkSecret)] = "local-link-secret-0001",
        [nameof(ChannelOptions.CallbackKey)] = "local-callback-key-0001",
    };

    public static void AddChannels(IServiceCollection services, IConfiguration configuration)
    {
        var anyProvider = ProviderSettings.AnyConfigured(configuration);
        services.AddOptions<ChannelOptions>()
            .BindConfiguration(ChannelOptions.Section)
            .PostConfigure(o =>
            {
                // In Azure the platform names the app's host in WEBSITE_HOSTNAME: links point there unless a public URL is set.
                if (string.IsNullOrWhiteSpace(o.PublicBaseUrl) && configuration["WEBSITE_HOSTNAME"] is { Length: > 0 } host)
                {
                    o.PublicBaseUrl = $"https://{host}";
                }

                if (anyProvider)
                {
                    return;
                }

                o.SenderName = Fill(o.SenderName, nameof(ChannelOptions.SenderName));
                o.OptOutNumber = Fill(o.OptOutNumber, nameof(ChannelOptions.OptOutNumber));
                o.PublicBaseUrl = Fill(o.PublicBaseUrl, nameof(ChannelOptions.PublicBaseUrl));
                o.LinkSecret = Fill(o.LinkSecret, nameof(ChannelOptions.LinkSecret));
                o.CallbackKey = Fill(o.CallbackKey, nameof(ChannelOptions.CallbackKey));
            })
            .ValidateDataAnnotations()
            .ValidateOnStart();

        Bind<EmailProviderOptions>(services, EmailProviderOptions.Section);
        Bind<SmsProviderOptions>(services, SmsProviderOptions.Section);
        Bind<KakaoProviderOptions>(services, KakaoProviderOptions.Section);
        Bind<SolapiOptions>(services, SolapiOptions.Section);
        Bind<AcsSmsOptions>(services, AcsSmsOptions.Section);
        services.AddSingleton<IRateLimitStore, TableRateLimitStore>();
        services.AddSingleton<Core.Delivery.IChannelRates>(sp => new ChannelRates(
            sp.GetRequiredService<IOptions<EmailProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<SmsProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<KakaoProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<SolapiOptions>>().Value,
            sp.GetRequiredService<IOptions<AcsSmsOptions>>().Value));
        services.AddSingleton<ProviderFactory>();
        services.AddSingleton(sp => sp.GetRequiredService<ProviderFactory>().Build(
            sp.GetRequiredService<IOptions<EmailProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<SmsProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<KakaoProviderOptions>>().Value,
            sp.GetRequiredService<IOptions<SolapiOptions>>().Value,
            sp.GetRequiredService<IOptions<AcsSmsOptions>>().Value));
        if (anyProvider)
        {
            // Real providers replace the local sink; a channel left without one fails its sends with that reason.
            services.Replace(ServiceDescriptor.Singleton<IChannelSender, ChannelRouter>());
        }

        services.AddSingleton<ISuppressionList, TableSuppressionList>();
        services.AddSingleton<IConsentLedger, TableConsentLedger>();
        services.AddSingleton<IDeliveryEvents, TableDeliveryEvents>();
        services.AddSingleton<ConsentHandler>();
        services.AddSingleton<DeliveryReportHandler>();
        services.AddSingleton<ITemplateStore, EmbeddedTemplateStore>();
        services.AddSingleton<LinkTokens>();
        services.AddSingleton<ClickTargets>();
        services.AddSingleton<MessageBuilder>();
    }

    private static void Bind<T>(IServiceCollection services, string section) where T : class =>
        services.AddOptions<T>().BindConfiguration(section).ValidateDataAnnotations().ValidateOnStart();

    private static string Fill(string value, string key) => string.IsNullOrWhiteSpace(value) ? LocalDefaults[key] : value;
}

/// <summary>Which real providers the settings turn on; none means the local sink.</summary>
public static class ProviderSettings
{
    public static bool AnyConfigured(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["Nudge:Email:AcsEndpoint"])
        || !string.IsNullOrWhiteSpace(configuration["Nudge:Email:ConnectionString"])
        || !string.IsNullOrWhiteSpace(configuration["Nudge:Sms:Provider"])
        || !string.IsNullOrWhiteSpace(configuration["Nudge:Kakao:Provider"]);
}
