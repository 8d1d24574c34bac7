using System.ComponentModel;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Nudge.App.Hosting;
using Nudge.Core;
using Nudge.Core.Results;

namespace Nudge.App.Functions;

/// <summary>
/// The marketer API for results: <c>GET /api/journeys/{id}/results</c> and <c>GET /api/results</c> (every journey),
/// each for <c>from</c>..<c>to</c> (days in the shop's time zone, both included; the last 30 days by default), as
/// JSON or, with <c>format=csv</c>, as CSV of the same rows.
/// </summary>
public sealed class ResultsFunctions(IOptions<NudgeOptions> options, ResultsService results)
{
    public const string CsvType = "text/csv; charset=utf-8";

    [Function("JourneyResults")]
    [Description("A journey's results between from and to (yyyy-MM-dd): funnel per step and channel, A/B variants and holdout with intervals; format=csv for the step rows.")]
    public async Task<Results<JsonHttpResult<JourneyResultsReport>, ContentHttpResult, ProblemHttpResult>> JourneyAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "journeys/{id}/results")] HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (Denied(request) is { } denied)
        {
            return denied;
        }

        var (query, problem) = ReadQuery(request);
        if (query is null)
        {
            return problem!;
        }

        if (await results.JourneyAsync(id, query.From, query.To, cancellationToken) is not { } report)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown journey", detail: $"No journey '{id}'.");
        }

        return query.Csv ? TypedResults.Text(StepsCsv(report), CsvType) : TypedResults.Json(report, NudgeJson.Options);
    }

    [Function("ResultsOverview")]
    [Description("Every journey's results between from and to (yyyy-MM-dd); format=csv for the same rows.")]
    public async Task<Results<JsonHttpResult<ResultsOverview>, ContentHttpResult, ProblemHttpResult>> OverviewAsync(
        [HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "results")] HttpRequest request, CancellationToken cancellationToken)
    {
        if (Denied(request) is { } denied)
        {
            return denied;
        }

        var (query, problem) = ReadQuery(request);
        if (query is null)
        {
            return problem!;
        }

        var overview = await results.OverviewAsync(query.From, query.To, cancellationToken);
        return query.Csv ? TypedResults.Text(OverviewCsv(overview), CsvType) : TypedResults.Json(overview, NudgeJson.Options);
    }

    private sealed record ResultsQuery(DateOnly From, DateOnly To, bool Csv);

    private ProblemHttpResult? Denied(HttpRequest request) => Http.RequireMarketerKey(request, options.Value);

    private (ResultsQuery?, ProblemHttpResult?) ReadQuery(HttpRequest request)
    {
        static ProblemHttpResult Bad(string detail) => TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid query", detail: detail);

        var format = request.Query["format"].ToString();
        if (format.Length > 0 && format is not ("json" or "csv"))
        {
            return (null, Bad("'format' must be json or csv."));
        }

        var to = results.Today;
        if (request.Query["to"].ToString() is { Length: > 0 } toText && !TryDay(toText, out to))
        {
            return (null, Bad("'to' must be a date as yyyy-MM-dd."));
        }

        var from = to.AddDays(-29);
        if (request.Query["from"].ToString() is { Length: > 0 } fromText && !TryDay(fromText, out from))
        {
            return (null, Bad("'from' must be a date as yyyy-MM-dd."));
        }

        if (from > to)
        {
            return (null, Bad("'from' must not be after 'to'."));
        }

        if (to.DayNumber - from.DayNumber >= ResultsService.MaxDays)
        {
            return (null, Bad($"A range is at most {ResultsService.MaxDays} days."));
        }

        return (new ResultsQuery(from, to, format == "csv"), null);
    }

    /// <summary>A day as yyyy-MM-dd, from 2000 to 2199 (so a range reaching back 30 days from it stays a valid date).</summary>
    private static bool TryDay(string text, out DateOnly day) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day) && day.Year is >= 2000 and < 2200;

    public static string StepsCsv(JourneyResultsReport report)
    {
        var csv = new StringBuilder("journey,from,to,step,channel,sent,delivered,opened,clicked,unsubscribed,suppressed,deferred,capped,failed,bounced,converted,revenue\r\n");
        foreach (var s in report.Steps)
        {
            Row(csv, report.Journey, Day(report.From), Day(report.To), s.Step, s.Channel, s.Sent, s.Delivered, s.Opened, s.Clicked, s.Unsubscribed,
                s.Suppressed, s.Deferred, s.Capped, s.Failed, s.Bounced, s.Converted, Money(s.Revenue));
        }

        return csv.ToString();
    }

    public static string OverviewCsv(ResultsOverview overview)
    {
        var csv = new StringBuilder("journey,name,status,from,to,entered,sent,delivered,opened,clicked,converted,conversionRate,revenue\r\n");
        foreach (var j in overview.Journeys)
        {
            Row(csv, j.Journey, j.Name ?? "", j.Status, Day(overview.From), Day(overview.To), j.Entered, j.Sent, j.Delivered, j.Opened, j.Clicked, j.Converted,
                j.ConversionRate.ToString("0.####", CultureInfo.InvariantCulture), Money(j.Revenue));
        }

        return csv.ToString();
    }

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Each currency on its own ("KRW 12000; USD 30"): amounts in different currencies are never added.</summary>
    private static string Money(IReadOnlyList<CurrencyAmount> amounts) =>
        string.Join("; ", amounts.Select(a => $"{a.Currency} {a.Amount.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>RFC 4180: fields with a comma, quote or line break are quoted; a leading =, +, - or @ is neutralised (spreadsheet formulas).</summary>
    private static void Row(StringBuilder csv, params object[] fields)
    {
        for (var i = 0; i < fields.Length; i++)
        {
            var text = Convert.ToString(fields[i], CultureInfo.InvariantCulture) ?? "";
            if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' && fields[i] is string)
            {
                text = "'" + text;
            }

            csv.Append(i == 0 ? "" : ",");
            csv.Append(text.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text);
        }

        csv.Append("\r\n");
    }
}
