using System.Text.RegularExpressions;
using Nudge.Core.Customers;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Core.Recommendations;

namespace Nudge.Channels.Tests;

/// <summary><c>{{ recommendations }}</c> in email, Kakao and LMS templates: shown with tracked product links and shop prices, fewer rather than cut.</summary>
public partial class RecommendationTemplateTests
{
    private static readonly CustomerProfile Customer = new() { Key = new CustomerKey("shopify", "7001"), FirstName = "민지", Email = "m@example.com", Phone = "01012345678" };

    private static RecommendedProduct Product(int n, string? title = null, string? currency = null) =>
        new($"p{n}", title ?? $"상품 {n}", $"https://shop.example/products/p{n}", $"https://cdn.example/p{n}.jpg", 12900m + n, currency, RecommendationReason.Related);

    private static OutboundMessage Message(string channel, string template) => new("d-1", channel, template, MessageClass.Ad, Customer);

    [Fact]
    public void Build_EmailWithProducts_ShowsEachWithItsTrackedLinkImageAndShopPrice()
    {
        var built = ChannelRouterTests.Builder().Build(Message(ChannelNames.Email, "browse-abandonment"), [Product(1), Product(2, currency: "USD")]).Message!.Message;

        Assert.Contains("상품 1 12,901원", built.Text);
        Assert.Contains("상품 2 12,902.00 USD", built.Text);
        Assert.Contains("<img src=\"https://cdn.example/p1.jpg\"", built.Html);
        var links = TrackedLink().Matches(built.Text).Select(m => new LinkTokens(ChannelRouterTests.Options).ReadClick(m.Groups[1].Value)!.Link).ToList();
        Assert.Equal([ProductLinks.Key("p1"), ProductLinks.Key("p2")], links); // every product link goes through the click tracker
        Assert.DoesNotContain("https://shop.example/products/p1", built.Text);
    }

    [Fact]
    public void Build_MoreProductsThanTheTemplateShows_ShowsItsNumberBestFirst()
    {
        var built = ChannelRouterTests.Builder().Build(Message(ChannelNames.Email, "browse-abandonment"), [.. Enumerable.Range(1, 6).Select(n => Product(n))]).Message!.Message;

        Assert.Equal(4, TrackedLink().Matches(built.Text).Count);
        Assert.Contains("상품 4", built.Text);
        Assert.DoesNotContain("상품 5", built.Text);
    }

    [Fact]
    public void Build_LmsWhoseProductsPassItsByteLimit_GoesOutWithFewerProductsNotCut()
    {
        var longTitle = new string('가', 350); // 700 EUC-KR bytes a product: two fit in 2,000, three do not
        var products = new[] { Product(1, "첫째 " + longTitle), Product(2, "둘째 " + longTitle), Product(3, "셋째 " + longTitle) };

        var sms = ChannelRouterTests.Builder().Build(Message(ChannelNames.Sms, "browse-abandonment-lms"), products).Message!.Message.Sms!;

        Assert.Equal(MessageKinds.Lms, sms.Kind);
        Assert.True(sms.Bytes <= MessageKinds.LmsMaxBytes);
        Assert.Contains("첫째", sms.Text);
        Assert.Contains("둘째", sms.Text);
        Assert.DoesNotContain("셋째", sms.Text);
        Assert.EndsWith(Sample().Sms!.Text[^20..], sms.Text); // the opt-out footer is whole
    }

    [Fact]
    public void Build_KakaoWhoseProductsPassItsLimit_GoesOutWithFewerProducts()
    {
        var longTitle = new string('나', 250); // two fit in Kakao's 1,000 characters, three do not
        var products = new[] { Product(1, "첫째 " + longTitle), Product(2, "둘째 " + longTitle), Product(3, "셋째 " + longTitle) };

        var kakao = ChannelRouterTests.Builder().Build(Message(ChannelNames.Kakao, "browse-abandonment-kakao"), products).Message!.Message;

        Assert.True(kakao.Text.Length <= MessageKinds.KakaoMaxChars);
        Assert.Contains("둘째", kakao.Text);
        Assert.DoesNotContain("셋째", kakao.Text);
    }

    [Fact]
    public void Build_NoProducts_StillBuildsTheMessage()
    {
        var built = ChannelRouterTests.Builder().Build(Message(ChannelNames.Kakao, "browse-abandonment-kakao"));

        Assert.True(built.Message is not null, built.Rejection);
        Assert.DoesNotContain("/api/r/", built.Message.Message.Text);
    }

    [Fact]
    public void RenderSample_ALoopOverRecommendations_ShowsTheSampleProducts()
    {
        var (text, error) = ChannelRouterTests.Builder().RenderSample("{% for p in recommendations %}{{ p.title }} {{ p.price }} ({{ p.reason }});{% endfor %}");

        Assert.Null(error);
        Assert.Equal("울 양말 3족 세트 12,900원 (viewed);머그컵 9,000원 (related);", text);
    }

    private static ComposedMessage Sample() => ChannelRouterTests.Builder().Build(Message(ChannelNames.Sms, "browse-abandonment-lms")).Message!.Message;

    [GeneratedRegex(@"https://shop\.example/api/r/([A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)")]
    private static partial Regex TrackedLink();
}
