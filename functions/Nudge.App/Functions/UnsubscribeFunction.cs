using Microsoft.Azure.Functions.Worker;
using System.Net;
using Nudge.Channels;
using Nudge.Core.Consent;

namespace Nudge.App.Functions;

/// <summary>
/// The unsubscribe link of every ad. <c>GET</c> shows a page with one button and changes nothing (mail scanners
/// follow links); <c>POST</c> withdraws consent for the link's medium: the RFC 8058 one-click POST
/// (<c>List-Unsubscribe=One-Click</c>) from a mail client, or the page's button. Free, no login, effective at once.
/// </summary>
public sealed class UnsubscribeFunction(LinkTokens tokens, ConsentHandler consent)
{
    [Function("UnsubscribePage")]
    public IResult Show([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "unsubscribe")] HttpRequest request)
    {
        var token = request.Query["t"].ToString();
        if (tokens.ReadUnsubscribe(token) is not { } unsubscribe)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid link", "This unsubscribe link is not valid.");
        }

        var medium = MediumName(ConsentMedia.ForChannel(unsubscribe.Channel));
        return Results.Content($"""
            <!doctype html><html lang="ko"><meta charset="utf-8"><title>수신거부</title>
            <body><h1>광고성 {medium} 수신거부</h1>
            <p>아래 버튼을 누르면 광고성 {medium} 수신이 바로 중단됩니다. 주문·배송 안내는 계속 받으실 수 있습니다.</p>
            <form method="post" action="?t={WebUtility.HtmlEncode(WebUtility.UrlEncode(token))}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
            <button type="submit">수신거부</button></form></body></html>
            """, "text/html; charset=utf-8");
    }

    [Function("Unsubscribe")]
    public async Task<IResult> HandleAsync([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "unsubscribe")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (tokens.ReadUnsubscribe(request.Query["t"].ToString()) is not { } unsubscribe)
        {
            return Http.Problem(StatusCodes.Status400BadRequest, "Invalid link", "This unsubscribe link is not valid.");
        }

        var oneClick = request.HasFormContentType && (await request.ReadFormAsync(cancellationToken))["List-Unsubscribe"] == "One-Click";
        var medium = ConsentMedia.ForChannel(unsubscribe.Channel);
        var outcome = await consent.WithdrawAsync(unsubscribe.Customer, medium, oneClick ? "one-click-unsubscribe" : "unsubscribe-page", unsubscribe.DeliveryId, cancellationToken);
        if (outcome == WithdrawalOutcome.UnknownCustomer)
        {
            return Http.Problem(StatusCodes.Status404NotFound, "Unknown customer", "Nothing is known about the customer of this link.");
        }

        return Results.Content($"""
            <!doctype html><html lang="ko"><meta charset="utf-8"><title>수신거부 완료</title>
            <body><h1>수신거부가 처리되었습니다</h1><p>앞으로 광고성 {MediumName(medium)}를 보내지 않습니다. 처리 결과는 안내 메시지로도 보내 드립니다.</p></body></html>
            """, "text/html; charset=utf-8");
    }

    private static string MediumName(string medium) => medium switch
    {
        ConsentMedia.Email => "이메일",
        ConsentMedia.Kakao => "카카오톡 메시지",
        _ => "문자",
    };
}
