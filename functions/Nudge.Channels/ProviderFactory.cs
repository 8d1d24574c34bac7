using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Nudge.Channels.Providers;
using Nudge.Channels.Routing;
using Nudge.Core.Pipeline;

namespace Nudge.Channels;

/// <summary>Builds the provider lanes the settings ask for; a channel with no provider has an empty lane list.</summary>
public sealed class ProviderFactory(IRateLimitStore rateLimits, TimeProvider clock)
{
    public static readonly TimeSpan CallTimeout = TimeSpan.FromSeconds(30);
    public const int BreakerThreshold = 5;
    public static readonly TimeSpan BreakerOpenFor = TimeSpan.FromSeconds(30);

    public ProviderLanes Build(EmailProviderOptions email, SmsProviderOptions sms, KakaoProviderOptions kakao, SolapiOptions solapi, AcsSmsOptions acsSms)
    {
        var emailLanes = new List<ProviderLane<IEmailProvider>>();
        if (email.Configured)
        {
            var (endpoint, credential, key) = Auth(email.AcsEndpoint, email.ConnectionString, email.ManagedIdentityClientId);
            var pipeline = AcsClientOptions.Build(new AcsClientOptions(CallTimeout), credential, key, clock);
            emailLanes.Add(Lane<IEmailProvider>(new AcsEmailProvider(pipeline, endpoint, email.SenderAddress!, email.ApiVersion, TimeSpan.FromSeconds(email.MaxPollSeconds), clock), email.RateLimits));
        }

        var smsLanes = new List<ProviderLane<ISmsProvider>>();
        foreach (var name in new[] { sms.Provider, sms.FallbackProvider }.Where(n => !string.IsNullOrWhiteSpace(n)).Distinct())
        {
            smsLanes.Add(name == "solapi" ? Lane<ISmsProvider>(Solapi(solapi), solapi.RateLimits) : Lane<ISmsProvider>(AcsSms(acsSms), acsSms.RateLimits));
        }

        var kakaoLane = kakao.Provider == "solapi" ? Lane<IKakaoProvider>(Solapi(solapi), solapi.RateLimits, bucketSuffix: "-kakao") : null;
        return new ProviderLanes(emailLanes, smsLanes, kakaoLane);
    }

    private ProviderLane<TProvider> Lane<TProvider>(TProvider provider, string limits, string bucketSuffix = "") where TProvider : IProvider =>
        new(provider,
            new ProviderThrottle(provider.Name + bucketSuffix, ProviderOptionChecks.ParseLimits(limits), rateLimits, TimeProvider.System),
            new CircuitBreaker(BreakerThreshold, BreakerOpenFor, TimeProvider.System));

    private SolapiProvider Solapi(SolapiOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.ApiKey) || string.IsNullOrWhiteSpace(o.ApiSecret) || string.IsNullOrWhiteSpace(o.SenderNumber))
        {
            throw new InvalidOperationException("Solapi needs Nudge:Solapi:ApiKey, ApiSecret and SenderNumber (a registered sender number).");
        }

        var pipeline = HttpPipelineBuilder.Build(new AcsClientOptions(CallTimeout));
        return new SolapiProvider(pipeline, new SolapiSettings(new Uri(o.BaseUrl), o.ApiKey, o.ApiSecret, o.SenderNumber, o.KakaoChannelId)
        {
            NotOnKakaoCodes = o.NotOnKakao,
            InvalidNumberCodes = o.InvalidNumbers,
        }, clock);
    }

    private AcsSmsProvider AcsSms(AcsSmsOptions o)
    {
        if (string.IsNullOrWhiteSpace(o.SenderNumber))
        {
            throw new InvalidOperationException("ACS SMS needs Nudge:AcsSms:SenderNumber (a number acquired in the ACS resource).");
        }

        var (endpoint, credential, key) = Auth(o.Endpoint, o.ConnectionString, null);
        return new AcsSmsProvider(AcsClientOptions.Build(new AcsClientOptions(CallTimeout), credential, key, clock), endpoint, o.SenderNumber, o.ApiVersion, clock);
    }

    /// <summary>Managed identity (Entra ID) when an endpoint is given; the access key only from a connection string.</summary>
    private static (Uri Endpoint, TokenCredential? Credential, string? Key) Auth(string? endpoint, string? connectionString, string? clientId)
    {
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            var parsed = AcsConnectionString.Parse(connectionString);
            return (parsed.Endpoint, null, parsed.AccessKey);
        }

        TokenCredential credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId });
        return (new Uri(endpoint!), credential, null);
    }
}
