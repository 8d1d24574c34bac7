using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Nudge.App.Tests;

/// <summary><c>POST /api/templates/preview</c> on the real app: what would go out, or why nothing can.</summary>
public class TemplatePreviewTests : IAsyncLifetime
{
    private NudgeTestApp _app = null!;

    public async Task InitializeAsync() => _app = await NudgeTestApp.StartAsync();

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<HttpResponseMessage> PreviewAsync(object body, string? apiKey = NudgeTestApp.ApiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/templates/preview") { Content = JsonContent.Create(body) };
        if (apiKey is not null)
        {
            request.Headers.Add("x-api-key", apiKey);
        }

        return await _app.Client.SendAsync(request);
    }

    [Theory]
    [InlineData("{% for i in (1..100000000) %}x{% endfor %}", "range")]
    [InlineData("{% assign n = 100000000 %}{% for i in (1..n) %}x{% endfor %}", "range")]
    [InlineData("{% for i in (1..9000) %}{% for j in (1..9000) %}{% endfor %}{% endfor %}", "statements")]
    [InlineData("{% assign s = 'xxxxxxxxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}", "too large")]
    [InlineData("{% assign a = '1,2' | split: ',' %}{% for i in (1..40) %}{% assign a = a | concat: a %}{% endfor %}{{ a | size }}", "items")]
    [InlineData("{% for i in (1..5000) %}0123456789012345678901234567890123456789{% endfor %}", "output")]
    [InlineData("{% capture s %}x{% endcapture %}{{ s }}", "capture")]
    public async Task Preview_TemplatePastTheRenderingBounds_Is400QuicklyWithTheReason(string text, string reason)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var response = await PreviewAsync(new { channel = "email", @class = "transactional", text, subject = "s" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.True(detail.Contains(reason), detail);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"answered after {watch.Elapsed}"); // unbounded, the first would run for minutes
    }

    [Fact]
    public async Task Preview_LoopWithinTheBounds_Renders()
    {
        using var response = await PreviewAsync(new { channel = "email", @class = "transactional", text = "{% for i in (1..100) %}{{ i }} {% endfor %}", subject = "s" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("100", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("text").GetString());
    }

    [Fact]
    public async Task Preview_SmsAd_ReturnsLabelledSmsWithEucKrBytes()
    {
        using var response = await PreviewAsync(new { channel = "sms", @class = "ad", text = "{{ customer.first_name }}님 쿠폰 도착" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var text = body.GetProperty("text").GetString()!;
        Assert.Equal("(광고)넛지 데모샵\n민지님 쿠폰 도착\n무료수신거부 080-000-0000", text);
        Assert.Equal("sms", body.GetProperty("kind").GetString());
        Assert.Equal(Core.Delivery.EucKr.ByteCount(text), body.GetProperty("bytes").GetInt32());
    }

    [Fact]
    public async Task Preview_LongInformationalText_IsLmsWithWarning()
    {
        using var response = await PreviewAsync(new { channel = "sms", @class = "informational", text = new string('가', 100), subject = "배송 안내" });

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("lms", 200, "배송 안내"), (body.GetProperty("kind").GetString(), body.GetProperty("bytes").GetInt32(), body.GetProperty("subject").GetString()));
        Assert.NotEmpty(body.GetProperty("warnings").EnumerateArray());
    }

    [Fact]
    public async Task Preview_KakaoAdAndInformational_AreBrandAndAlimTalk()
    {
        using var ad = await PreviewAsync(new { channel = "kakao", @class = "ad", text = "주말 특가" });
        using var info = await PreviewAsync(new { channel = "kakao", @class = "transactional", text = "주문 접수" });

        Assert.Equal("brand", (await ad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kind").GetString());
        Assert.Equal("alimtalk", (await info.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Preview_EmailAd_PrefixesSubject()
    {
        using var response = await PreviewAsync(new { channel = "email", @class = "ad", text = "환영해요", subject = "쿠폰 도착" });

        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(("email", "(광고) 쿠폰 도착"), (body.GetProperty("kind").GetString(), body.GetProperty("subject").GetString()));
    }

    [Theory]
    [InlineData("sms", "선물 🎁", "🎁")]
    [InlineData("sms", null, "2000")]
    [InlineData("kakao", "선물 🎁", "fallback")]
    public async Task Preview_TextThatCannotBeSent_Is400WithReason(string channel, string? text, string reason)
    {
        using var response = await PreviewAsync(new { channel, @class = "informational", text = text ?? new string('가', 1001) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(reason, problem.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("fax", "ad", "x")]
    [InlineData("sms", "promo", "x")]
    [InlineData("sms", "ad", "")]
    [InlineData("sms", "ad", "{% if %}")]
    public async Task Preview_InvalidRequest_Is400(string channel, string messageClass, string text)
    {
        using var response = await PreviewAsync(new { channel, @class = messageClass, text });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Preview_WithoutApiKey_Is401()
    {
        using var response = await PreviewAsync(new { channel = "sms", @class = "ad", text = "x" }, apiKey: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
