using Microsoft.Extensions.Configuration;
using Azure.Core.Pipeline;
using Nudge.Channels.Providers;
using Nudge.Core.Delivery;
using Nudge.Testing;

namespace Nudge.Channels.Tests;

/// <summary>The real provider clients against the local stubs of each provider's documented REST API.</summary>
public class ProviderClientTests : IAsyncLifetime
{
    private ProviderStubs _stubs = null!;

    public async Task InitializeAsync() => _stubs = await ProviderStubs.StartAsync();

    public async Task DisposeAsync() => await _stubs.DisposeAsync();

    private AcsEmailProvider Email() =>
        new(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(10)), null, ProviderStubs.AcsAccessKey, TimeProvider.System),
            _stubs.BaseAddress, "DoNotReply@shop.example", "2023-03-31", TimeSpan.FromSeconds(10), TimeProvider.System);

    private SolapiProvider Solapi(string key = ProviderStubs.SolapiKey, SolapiOptions? codes = null) =>
        new(HttpPipelineBuilder.Build(new AcsClientOptions(TimeSpan.FromSeconds(10))),
            new SolapiSettings(_stubs.BaseAddress, key, ProviderStubs.SolapiSecret, "02-1234-5678", "KA01PF0000000000")
            {
                NotOnKakaoCodes = (codes ?? new SolapiOptions()).NotOnKakao,
                InvalidNumberCodes = (codes ?? new SolapiOptions()).InvalidNumbers,
            }, TimeProvider.System);

    private AcsSmsProvider AcsSms() =>
        new(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(10)), null, ProviderStubs.AcsAccessKey, TimeProvider.System),
            _stubs.BaseAddress, "+18005550100", "2021-03-07", TimeProvider.System);

    private static EmailRequest EmailTo(string to, string key = "0123456789abcdef0123456789abcdef") =>
        new(key, to, "(광고) 쿠폰", "본문", "<p>본문</p>", new Dictionary<string, string>
        {
            ["List-Unsubscribe"] = "<https://shop.example/api/unsubscribe?t=x>",
            ["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click",
        });

    [Fact]
    public async Task AcsEmail_Send_SignsPollsAndCarriesOneClickUnsubscribeHeaders()
    {
        var result = await Email().SendAsync(EmailTo("minji@example.com"), CancellationToken.None);

        Assert.Equal(ProviderStatus.Accepted, result.Status);
        Assert.Equal("01234567-89ab-cdef-0123-456789abcdef", result.MessageId);
        var (_, body, headers, _) = Assert.Single(_stubs.Accepted);
        Assert.Equal("01234567-89ab-cdef-0123-456789abcdef", headers["Operation-Id"]);
        Assert.Equal("DoNotReply@shop.example", body["senderAddress"]!.GetValue<string>());
        Assert.Equal("(광고) 쿠폰", body["content"]!["subject"]!.GetValue<string>());
        Assert.Equal("List-Unsubscribe=One-Click", body["headers"]!["List-Unsubscribe-Post"]!.GetValue<string>());
        Assert.Equal(0, _stubs.AuthFailures);
    }

    [Fact]
    public async Task AcsEmail_SameDeliveryTwice_IsOneEmail()
    {
        var first = await Email().SendAsync(EmailTo("minji@example.com"), CancellationToken.None);
        var second = await Email().SendAsync(EmailTo("minji@example.com"), CancellationToken.None);

        Assert.Equal((ProviderStatus.Accepted, ProviderStatus.Accepted), (first.Status, second.Status));
        Assert.Single(_stubs.AcceptedOn("email"));
    }

    [Theory]
    [InlineData(429, ProviderStatus.Transient, true)]
    [InlineData(503, ProviderStatus.Transient, false)]
    [InlineData(400, ProviderStatus.Permanent, false)]
    public async Task AcsEmail_ErrorStatus_IsClassified(int status, ProviderStatus expected, bool hasRetryAfter)
    {
        _stubs.Fail("email", status);

        var result = await Email().SendAsync(EmailTo("minji@example.com"), CancellationToken.None);

        Assert.Equal(expected, result.Status);
        Assert.Equal(hasRetryAfter, result.RetryAfter is not null);
        Assert.Contains(status.ToString(), result.Reason);
    }

    [Fact]
    public async Task AcsEmail_OperationFails_IsPermanentWithProviderReason()
    {
        var result = await Email().SendAsync(EmailTo("someone@fail.example"), CancellationToken.None);

        Assert.Equal(ProviderStatus.Permanent, result.Status);
        Assert.Contains("InvalidRecipient", result.Reason);
    }

    [Fact]
    public async Task AcsEmail_ProviderDown_IsTransient()
    {
        var down = new AcsEmailProvider(AcsClientOptions.Build(new AcsClientOptions(TimeSpan.FromSeconds(2)), null, ProviderStubs.AcsAccessKey, TimeProvider.System),
            new Uri("http://127.0.0.1:9/"), "DoNotReply@shop.example", "2023-03-31", TimeSpan.FromSeconds(2), TimeProvider.System);

        var result = await down.SendAsync(EmailTo("minji@example.com"), CancellationToken.None);

        Assert.Equal(ProviderStatus.Transient, result.Status);
    }

    [Fact]
    public async Task Solapi_Lms_IsSignedAndTypedWithSubjectAndDomesticNumbers()
    {
        var result = await Solapi().SendAsync(new SmsRequest("d-1", "+82 10-1234-5678", MessageKinds.Lms, "긴 본문", "제목", DateTimeOffset.UtcNow), CancellationToken.None);

        Assert.Equal(ProviderStatus.Accepted, result.Status);
        var body = Assert.Single(_stubs.AcceptedOn("solapi"));
        Assert.Equal(("LMS", "제목", "01012345678", "0212345678", "d-1"),
            (body["type"]!.GetValue<string>(), body["subject"]!.GetValue<string>(), body["to"]!.GetValue<string>(), body["from"]!.GetValue<string>(), body["customFields"]!["deliveryId"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Solapi_WrongKey_IsRejectedByTheSignatureCheck()
    {
        var result = await Solapi(key: "NCWRONGKEY000001").SendAsync(new SmsRequest("d-1", "01012345678", MessageKinds.Sms, "x", null, DateTimeOffset.UtcNow), CancellationToken.None);

        Assert.Equal(ProviderStatus.Transient, result.Status);
        Assert.Equal(1, _stubs.AuthFailures);
    }

    /// <summary>The status codes are settings (not confirmed against Solapi's list): what they name is what counts.</summary>
    [Fact]
    public async Task Solapi_StatusCodesFromSettings_DecideSendResultsAndReports()
    {
        var options = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Nudge:Solapi:NotOnKakaoCodes"] = "3199, 3105",
            ["Nudge:Solapi:InvalidNumberCodes"] = "3104",
        }).Build().GetSection(SolapiOptions.Section).Get<SolapiOptions>()!;
        _stubs.NotOnKakao["01099990001"] = true; // the stub answers 3104 for it
        var request = new KakaoRequest("d-4", "01099990001", MessageKinds.AlimTalk, "주문 접수", "TPL_ORDER_1", new Dictionary<string, string>());

        var result = await Solapi(codes: options).SendAsync(request, CancellationToken.None);

        Assert.NotEqual(ProviderStatus.NotOnKakao, result.Status); // 3104 is no longer "not on Kakao" here
        Assert.Equal(
            [Nudge.Core.Pipeline.DeliveryReport.NotOnKakao, Nudge.Core.Pipeline.DeliveryReport.NotOnKakao, Nudge.Core.Pipeline.DeliveryReport.Bounced, Nudge.Core.Pipeline.DeliveryReport.NotDelivered, Nudge.Core.Pipeline.DeliveryReport.Delivered],
            new[] { "3199", "3105", "3104", "3106", "4000" }.Select(options.ReportFor));
        Assert.Equal(Nudge.Core.Pipeline.DeliveryReport.NotOnKakao, new SolapiOptions().ReportFor("3106")); // the defaults
    }

    [Fact]
    public async Task Solapi_AlimTalkToNonKakaoUser_IsNotOnKakao()
    {
        _stubs.NotOnKakao["01099990000"] = true;
        var request = new KakaoRequest("d-2", "01099990000", MessageKinds.AlimTalk, "주문 접수", "TPL_ORDER_1", new Dictionary<string, string> { ["customer.first_name"] = "민지" });

        var result = await Solapi().SendAsync(request, CancellationToken.None);

        Assert.Equal(ProviderStatus.NotOnKakao, result.Status);
    }

    [Fact]
    public async Task Solapi_UnknownNumberAnd500_AreInvalidRecipientAndTransient()
    {
        _stubs.InvalidNumbers["01000000000"] = true;
        var invalid = await Solapi().SendAsync(new SmsRequest("d-3", "01000000000", MessageKinds.Sms, "x", null, DateTimeOffset.UtcNow), CancellationToken.None);
        _stubs.Fail("solapi", 500);
        var down = await Solapi().SendAsync(new SmsRequest("d-4", "01012345678", MessageKinds.Sms, "x", null, DateTimeOffset.UtcNow), CancellationToken.None);

        Assert.Equal((ProviderStatus.InvalidRecipient, ProviderStatus.Transient), (invalid.Status, down.Status));
    }

    [Fact]
    public async Task AcsSms_RepeatedRequestId_SendsOnceAndInvalidNumberIsReported()
    {
        var request = new SmsRequest("abcdefabcdefabcdefabcdefabcdefab", "+821012345678", MessageKinds.Sms, "x", null, DateTimeOffset.UtcNow);
        var first = await AcsSms().SendAsync(request, CancellationToken.None);
        var again = await AcsSms().SendAsync(request, CancellationToken.None);
        _stubs.InvalidNumbers["821000000000"] = true;
        var invalid = await AcsSms().SendAsync(request with { IdempotencyKey = "other", To = "+821000000000" }, CancellationToken.None);

        Assert.Equal((ProviderStatus.Accepted, first.MessageId), (again.Status, again.MessageId));
        Assert.Single(_stubs.AcceptedOn("sms"));
        Assert.Equal(ProviderStatus.InvalidRecipient, invalid.Status);
    }
}
