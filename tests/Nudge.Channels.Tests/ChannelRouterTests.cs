using Azure.Core.Pipeline;
using Microsoft.Extensions.Options;
using Nudge.Channels.Providers;
using Nudge.Channels.Routing;
using Nudge.Channels.Templates;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.Channels.Tests;

/// <summary>The router over the real clients and the stubs: labels, Kakao fallback, failover, breaker, interrupted sends.</summary>
public class ChannelRouterTests : IAsyncLifetime
{
    private ProviderStubs _stubs = null!;

    public async Task InitializeAsync() => _stubs = await ProviderStubs.StartAsync();

    public async Task DisposeAsync() => await _stubs.DisposeAsync();

    public static readonly IOptions<ChannelOptions> Options = Microsoft.Extensions.Options.Options.Create(new ChannelOptions
    {
        SenderName = "넛지샵", OptOutNumber = "080-123-4567", PublicBaseUrl = "https://shop.example", LinkSecret = "test-link-secret-0001",
    });

    public static MessageBuilder Builder() => new(new EmbeddedTemplateStore(), new LinkTokens(Options), Options);

    private SolapiProvider Solapi() =>
        new(HttpPipelineBuilder.Build(new AcsClientOptions(TimeSpan.FromSeconds(10))),
            new SolapiSettings(_stubs.BaseAddress, ProviderStubs.SolapiKey, ProviderStubs.SolapiSecret, "0212345678", "KA01PF0000000000"), TimeProvider.System);

    private AcsSmsProvider AcsSms() =>
        new(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(10)), null, ProviderStubs.AcsAccessKey, TimeProvider.System),
            _stubs.BaseAddress, "+18005550100", "2021-03-07", TimeProvider.System);

    private static ProviderLane<T> Lane<T>(T provider, int breakerThreshold = 5) where T : IProvider =>
        new(provider, null, new CircuitBreaker(breakerThreshold, TimeSpan.FromMinutes(1), TimeProvider.System));

    private static OutboundMessage Message(string channel, string template, MessageClass messageClass, string phone = "+821012345678", bool? kakaoReachable = null) =>
        new("0123456789abcdef0123456789abcdef", channel, template, messageClass, new CustomerProfile
        {
            Key = new CustomerKey("shopify", "7001"), FirstName = "민지", Email = "minji@example.com", Phone = phone, KakaoReachable = kakaoReachable,
        }) { ScheduledFor = DateTimeOffset.UtcNow };

    [Fact]
    public async Task Send_WelcomeDay2Sms_GoesOutLabelledWithTrackedLink()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad), CancellationToken.None);

        Assert.True(outcome.Sent, outcome.FailureReason);
        var text = Assert.Single(_stubs.AcceptedOn("solapi"))["text"]!.GetValue<string>();
        Assert.StartsWith("(광고)넛지샵\n민지님, 가입 쿠폰", text);
        Assert.EndsWith("\n무료수신거부 080-123-4567", text);
        Assert.Contains("https://shop.example/api/r/", text);
        Assert.Equal((MessageKinds.Lms, "solapi"), (outcome.Kind, outcome.Provider));
    }

    [Fact]
    public async Task Send_KakaoBrandToNonFriend_FallsBackToSmsWithAdLabelsAndLearnsReachability()
    {
        _stubs.NotOnKakao["01012345678"] = true;
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], Lane<IKakaoProvider>(Solapi())), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Kakao, "cart-reminder-kakao", MessageClass.Ad), CancellationToken.None);

        Assert.True(outcome.Sent, outcome.FailureReason);
        Assert.Equal(false, outcome.ReachableOnKakao);
        var sms = Assert.Single(_stubs.AcceptedOn("solapi"));
        Assert.Equal("LMS", sms["type"]!.GetValue<string>());
        Assert.StartsWith("(광고)넛지샵\n", sms["text"]!.GetValue<string>());
        Assert.EndsWith("무료수신거부 080-123-4567", sms["text"]!.GetValue<string>());
        Assert.Equal(2, _stubs.Requests); // the Kakao attempt, then the SMS
    }

    [Fact]
    public async Task Send_AlimTalkToKakaoUser_CarriesTemplateCodeAndVariables()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], Lane<IKakaoProvider>(Solapi())), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Kakao, "order-confirmed", MessageClass.Transactional), CancellationToken.None);

        Assert.True(outcome.Sent, outcome.FailureReason);
        Assert.Equal((true, MessageKinds.AlimTalk), (outcome.ReachableOnKakao, outcome.Kind));
        var sent = Assert.Single(_stubs.AcceptedOn("solapi"));
        Assert.Equal("ATA", sent["type"]!.GetValue<string>());
        Assert.Equal("NUDGE_ORDER_CONFIRMED_V1", sent["kakaoOptions"]!["templateId"]!.GetValue<string>());
        Assert.Equal("민지", sent["kakaoOptions"]!["variables"]!["#{customer.first_name}"]!.GetValue<string>());
        Assert.True(sent["kakaoOptions"]!["disableSms"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Send_KnownNotOnKakao_GoesStraightToSms()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], Lane<IKakaoProvider>(Solapi())), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Kakao, "order-confirmed", MessageClass.Transactional, kakaoReachable: false), CancellationToken.None);

        Assert.True(outcome.Sent);
        Assert.Equal(1, _stubs.Requests);
        Assert.Equal("LMS", Assert.Single(_stubs.AcceptedOn("solapi"))["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Send_PrimaryDown_FailsOverAndBreakerStopsCallingIt()
    {
        _stubs.Fail("solapi", 503, 503); // unavailable: the request was not processed
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi(), breakerThreshold: 2), Lane<ISmsProvider>(AcsSms())], null), TimeProvider.System);

        var first = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { DeliveryId = "a0000000000000000000000000000001" }, CancellationToken.None);
        var second = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { DeliveryId = "a0000000000000000000000000000002" }, CancellationToken.None);
        var requestsBeforeThird = _stubs.Requests;
        var third = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { DeliveryId = "a0000000000000000000000000000003" }, CancellationToken.None);

        Assert.Equal(("acs-sms", "acs-sms", "acs-sms"), (first.Provider, second.Provider, third.Provider));
        Assert.Equal(requestsBeforeThird + 1, _stubs.Requests); // solapi's circuit is open: only ACS was called
        Assert.Equal(3, _stubs.AcceptedOn("sms").Count());
    }

    [Fact]
    public async Task Send_PrimaryAnswers500_DoesNotFailOverAndPinsTheRetryToIt()
    {
        _stubs.Fail("solapi", 500); // may have sent it before failing: another provider could send it twice
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi()), Lane<ISmsProvider>(AcsSms())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad), CancellationToken.None);

        Assert.False(outcome.Sent || outcome.Permanent || outcome.Unconfirmed);
        Assert.Equal("solapi", outcome.MaybeSentVia);
        Assert.Empty(_stubs.AcceptedOn("sms"));
    }

    [Fact]
    public async Task Send_PrimaryRefusesConnections_FailsOver()
    {
        var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var unreachable = new SolapiProvider(HttpPipelineBuilder.Build(new AcsClientOptions(TimeSpan.FromSeconds(10))),
            new SolapiSettings(new Uri($"http://127.0.0.1:{port}/"), ProviderStubs.SolapiKey, ProviderStubs.SolapiSecret, "0212345678", null), TimeProvider.System);
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(unreachable), Lane<ISmsProvider>(AcsSms())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad), CancellationToken.None);

        Assert.True(outcome.Sent);
        Assert.Equal("acs-sms", outcome.Provider);
    }

    [Fact]
    public async Task Send_RetryOfAMaybeSentMessage_GoesOnlyToThatProviderAndOnlyIfItDedupes()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi()), Lane<ISmsProvider>(AcsSms())], null), TimeProvider.System);

        var viaSolapi = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { MaybeSentVia = "solapi" }, CancellationToken.None);
        var viaAcs = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { MaybeSentVia = "acs-sms" }, CancellationToken.None);

        Assert.True(viaSolapi.Unconfirmed); // Solapi takes no key: asking again could send it twice
        Assert.Empty(_stubs.AcceptedOn("solapi"));
        Assert.Equal((true, "acs-sms"), (viaAcs.Sent, viaAcs.Provider));
    }

    [Fact]
    public async Task Send_EveryProviderDown_IsATransientFailure()
    {
        _stubs.Fail("solapi", 503);
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad), CancellationToken.None);

        Assert.False(outcome.Sent || outcome.Permanent || outcome.Unconfirmed);
        Assert.Null(outcome.RetryAt);
        Assert.Contains("503", outcome.FailureReason);
    }

    [Fact]
    public async Task Send_ResumedOnProviderWithoutDedupe_IsUnconfirmedWithoutACall()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { Resumed = true }, CancellationToken.None);

        Assert.True(outcome.Unconfirmed);
        Assert.Equal(0, _stubs.Requests);
    }

    [Fact]
    public async Task Send_UnknownTemplate_IsRejectedWithoutACall()
    {
        var router = new ChannelRouter(Builder(), new ProviderLanes([], [Lane<ISmsProvider>(Solapi())], null), TimeProvider.System);

        var outcome = await router.SendAsync(Message(ChannelNames.Sms, "no-such-template", MessageClass.Ad), CancellationToken.None);

        Assert.True(outcome.Permanent);
        Assert.Contains("unknown template", outcome.FailureReason);
        Assert.Equal(0, _stubs.Requests);
    }

    [Fact]
    public async Task Throttles_ManyWorkersSharingABucket_NeverExceedTheLimit()
    {
        var clients = TestStorage.Clients();
        var names = new StorageNames(TestStorage.NewPrefix());
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var store = new TableRateLimitStore(clients.Tables, names);
        var limit = new RateLimit(20, TimeSpan.FromSeconds(1));
        // Three "instances", each with its own throttle over the one shared bucket, each with many concurrent workers.
        var dispatched = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
        var lanes = Enumerable.Range(0, 3).Select(_ => new ProviderLane<ISmsProvider>(new DispatchClock(AcsSms(), dispatched), new ProviderThrottle("acs-sms", [limit], store, TimeProvider.System),
            new CircuitBreaker(5, TimeSpan.FromMinutes(1), TimeProvider.System))).ToArray();
        var routers = lanes.Select(l => new ChannelRouter(Builder(), new ProviderLanes([], [l], null), TimeProvider.System)).ToArray();
        var started = DateTimeOffset.UtcNow;

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            var message = Message(ChannelNames.Sms, "welcome-day2", MessageClass.Ad) with { DeliveryId = $"b{i:D31}" };
            while (true)
            {
                var outcome = await routers[i % 3].SendAsync(message, CancellationToken.None);
                if (outcome.RetryAt is null)
                {
                    return outcome;
                }

                await Task.Delay(100);
            }
        }));

        var elapsed = DateTimeOffset.UtcNow - started;
        Assert.All(outcomes, o => Assert.True(o.Sent, o.FailureReason));
        Assert.Equal(60, _stubs.AcceptedOn("sms").Count());
        // What the throttle controls is when requests leave: measured at the hand-off to the client, so connection
        // set-up or a stalled test host (the stub runs in this process) cannot bunch the timestamps.
        var times = dispatched.OrderBy(t => t).ToArray();
        Assert.True(ProviderStubs.MaxInWindow(times, TimeSpan.FromSeconds(1)) <= 20, string.Join(",", times.Select(t => (t - started).TotalMilliseconds.ToString("0"))));
        Assert.True(elapsed >= TimeSpan.FromSeconds(2.5), $"60 sends at 20/s took only {elapsed}");
    }

    /// <summary>Records when the router hands a request to the client, then sends it.</summary>
    private sealed class DispatchClock(ISmsProvider inner, System.Collections.Concurrent.ConcurrentBag<DateTimeOffset> dispatched) : ISmsProvider
    {
        public string Name => inner.Name;

        public bool DedupesByKey => inner.DedupesByKey;

        public Task<ProviderResult> SendAsync(SmsRequest request, CancellationToken cancellationToken)
        {
            dispatched.Add(DateTimeOffset.UtcNow);
            return inner.SendAsync(request, cancellationToken);
        }
    }
}
