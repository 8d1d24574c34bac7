using Nudge.Core.Journeys;

namespace Nudge.Core.Results;

/// <summary>An amount in one currency: amounts in different currencies are never added up.</summary>
public sealed record CurrencyAmount(string Currency, decimal Amount);

public sealed record ReasonCount(string Reason, long Count);

/// <summary>One send step's funnel on one channel.</summary>
public sealed record StepResult(
    int Index, string Step, string Channel, long Sent, long Delivered, long Opened, long Clicked, long Unsubscribed, long Suppressed,
    long Deferred, long Capped, long Failed, long Bounced, long Converted, IReadOnlyList<CurrencyAmount> Revenue,
    IReadOnlyList<ReasonCount> SuppressedBy, IReadOnlyList<ReasonCount> DeferredBy, IReadOnlyList<ReasonCount> CappedBy);

/// <summary>A comparison of two conversion rates: the pooled two-proportion z-test, Holm-adjusted across the variants.</summary>
public sealed record RateComparison(string Baseline, double Difference, Interval DifferenceInterval, double Z, double PValue, double AdjustedPValue, bool Significant, string Verdict);

/// <summary>One A/B group: customers who joined it, those who reached the goal after entry, and how that compares with the baseline.</summary>
public sealed record VariantResult(
    string Variant, long Entered, long Converted, double Rate, Interval RateInterval, IReadOnlyList<CurrencyAmount> Revenue, RateComparison? VersusBaseline);

/// <summary>Revenue per customer in one currency, messaged against held out, with the interval of the difference.</summary>
public sealed record RevenueLift(string Currency, double MessagedPerCustomer, double HoldoutPerCustomer, double Difference, Interval? DifferenceInterval);

/// <summary>The control group against the messaged customers: incremental conversion and revenue per customer.</summary>
public sealed record HoldoutResult(
    long Members, long Converted, double Rate, Interval RateInterval,
    long MessagedMembers, long MessagedConverted, double MessagedRate, Interval MessagedRateInterval,
    double Lift, Interval LiftInterval, double? RelativeLift, double PValue, bool Significant, bool Conclusive,
    IReadOnlyList<RevenueLift> RevenuePerCustomer, string Verdict);

public sealed record DayResult(DateOnly Day, long Entered, long Sent, long Delivered, long Clicked, long Converted);

/// <summary>What a journey achieved between two days (both included), in the shop's time zone.</summary>
public sealed record JourneyResultsReport(
    string Journey, string? Name, DateOnly From, DateOnly To, long Entered, long Sent, long Delivered, long Opened, long Clicked, long Converted,
    IReadOnlyList<CurrencyAmount> Revenue, IReadOnlyList<StepResult> Steps, IReadOnlyList<VariantResult> Variants, HoldoutResult? Holdout,
    IReadOnlyList<DayResult> Days, string Attribution);

/// <summary>Turns a journey's counters into its results; pure.</summary>
public static class JourneyResults
{
    public static JourneyResultsReport Build(JourneyDefinition? definition, string journeyId, DateOnly from, DateOnly to, ResultCounters counters)
    {
        long Count(string measure, Func<CounterKey, bool>? where = null) => counters.Total(k => k.Measure == measure && (where?.Invoke(k) ?? true)).Count;

        var attribution = definition?.Attribution ?? AttributionWindows.Default;
        var window = definition?.ConversionWindow ?? TimeSpan.FromDays(30);
        return new JourneyResultsReport(
            journeyId, definition?.Name, from, to,
            Count(Measures.Entered), Count(Measures.Sent), Count(Measures.Delivered), Count(Measures.Opened), Count(Measures.Clicked), Count(Measures.Converted),
            Revenue(counters, k => k.Measure == Measures.Converted),
            Steps(definition, counters), Variants(definition, counters), Holdout(counters),
            Days(counters),
            $"a goal within {Span(attribution.AfterClick)} of a click or {Span(attribution.AfterDelivery)} of a message; held-out customers within {Span(window)} of entry");
    }

    private static IReadOnlyList<StepResult> Steps(JourneyDefinition? definition, ResultCounters counters)
    {
        var stepped = counters.Values.Keys.Where(k => k.Step is not null && k.Channel.Length > 0).Select(k => (Index: k.Step!.Value, k.Channel)).ToHashSet();
        if (definition is not null)
        {
            for (var i = 0; i < definition.Steps.Count; i++)
            {
                if (definition.Steps[i] is SendStep send)
                {
                    stepped.Add((i, send.Channel));
                }
            }
        }

        return stepped.OrderBy(s => s.Index).ThenBy(s => s.Channel, StringComparer.Ordinal).Select(s =>
        {
            bool Here(CounterKey k) => k.Step == s.Index && k.Channel == s.Channel;
            long Count(string measure) => counters.Total(k => k.Measure == measure && Here(k)).Count;
            var name = definition is not null && s.Index < definition.Steps.Count ? definition.Steps[s.Index].Id : $"#{s.Index}";
            return new StepResult(s.Index, name, s.Channel,
                Count(Measures.Sent), Count(Measures.Delivered), Count(Measures.Opened), Count(Measures.Clicked), Count(Measures.Unsubscribed),
                Count(Measures.Suppressed), Count(Measures.Deferred), Count(Measures.Capped), Count(Measures.Failed), Count(Measures.Bounced),
                Count(Measures.Converted), Revenue(counters, k => k.Measure == Measures.Converted && Here(k)),
                ByReason(counters, Measures.Suppressed, Here), ByReason(counters, Measures.Deferred, Here), ByReason(counters, Measures.Capped, Here));
        }).ToList();
    }

    /// <summary>
    /// Each A/B group (the holdout aside): members are entries in it plus later assignments to it; a conversion is the
    /// goal within the conversion window after entry, the same measure for every group. The first group in the
    /// journey's branch order is the baseline; the others are compared with it, Holm-corrected.
    /// </summary>
    private static IReadOnlyList<VariantResult> Variants(JourneyDefinition? definition, ResultCounters counters)
    {
        var groups = counters.Values.Keys.Select(k => k.Group).Where(g => g.Length > 0 && g != Groups.Holdout).Distinct().ToList();
        if (groups.Count == 0)
        {
            return [];
        }

        var branchOrder = definition?.Steps.OfType<RandomSplitStep>().SelectMany(split => split.Branches.Select(b => $"{split.Id}:{b.Name}")).ToList() ?? [];
        groups = groups.OrderBy(g => OrderOf(branchOrder, g)).ThenBy(g => g, StringComparer.Ordinal).ToList();
        var members = groups.Select(g => Members(counters, g)).ToList();
        var converted = groups.Select(g => counters.Total(k => k.Measure == Measures.GoalAfterEntry && k.Group == g).Count).ToList();

        var tests = Enumerable.Range(1, groups.Count - 1)
            .Select(i => ResultStatistics.TwoProportionZTest(converted[i], members[i], converted[0], members[0])).ToList();
        var adjusted = ResultStatistics.Holm(tests.Select(t => t.PValue).ToList());
        return groups.Select((g, i) =>
        {
            RateComparison? comparison = null;
            if (i > 0)
            {
                var (z, p) = tests[i - 1];
                var enough = ResultStatistics.LargeEnough(converted[i], members[i], converted[0], members[0]);
                var significant = enough && adjusted[i - 1] < ResultStatistics.Alpha;
                comparison = new RateComparison(groups[0],
                    ResultStatistics.Rate(converted[i], members[i]) - ResultStatistics.Rate(converted[0], members[0]),
                    ResultStatistics.DifferenceInterval(converted[i], members[i], converted[0], members[0]),
                    z, p, adjusted[i - 1], significant,
                    !enough ? "too small to conclude"
                    : significant ? (z > 0 ? "converts better than the baseline" : "converts worse than the baseline")
                    : "no significant difference");
            }

            return new VariantResult(g, members[i], converted[i], ResultStatistics.Rate(converted[i], members[i]),
                ResultStatistics.Wilson(converted[i], members[i]), Revenue(counters, k => k.Measure == Measures.GoalAfterEntry && k.Group == g), comparison);
        }).ToList();
    }

    /// <summary>
    /// The holdout against everyone messaged: conversion (goal within the conversion window after entry) and revenue
    /// per customer (the first goal's order value, 0 for those without one), per currency.
    /// </summary>
    private static HoldoutResult? Holdout(ResultCounters counters)
    {
        var held = Members(counters, Groups.Holdout);
        if (held == 0)
        {
            return null;
        }

        var messaged = counters.Total(k => k.Measure == Measures.Entered && k.Group != Groups.Holdout).Count
            - counters.Total(k => k.Measure == Measures.Assigned && k.Group == Groups.Holdout).Count;
        messaged = Math.Max(0, messaged);
        bool Messaged(CounterKey k) => k.Group != Groups.Holdout;
        var heldConverted = counters.Total(k => k.Measure == Measures.GoalAfterEntry && k.Group == Groups.Holdout).Count;
        var messagedConverted = counters.Total(k => k.Measure == Measures.GoalAfterEntry && Messaged(k)).Count;
        var (z, p) = ResultStatistics.TwoProportionZTest(messagedConverted, messaged, heldConverted, held);
        var enough = ResultStatistics.LargeEnough(messagedConverted, messaged, heldConverted, held);
        var significant = enough && p < ResultStatistics.Alpha;
        var heldRate = ResultStatistics.Rate(heldConverted, held);
        var messagedRate = ResultStatistics.Rate(messagedConverted, messaged);

        var currencies = counters.Values.Keys.Where(k => k.Measure == Measures.GoalAfterEntry && k.Currency.Length > 0).Select(k => k.Currency).Distinct().Order(StringComparer.Ordinal);
        var revenue = currencies.Select(currency =>
        {
            var m = counters.Total(k => k.Measure == Measures.GoalAfterEntry && k.Currency == currency && Messaged(k));
            var h = counters.Total(k => k.Measure == Measures.GoalAfterEntry && k.Currency == currency && k.Group == Groups.Holdout);
            var messagedMean = ResultStatistics.Mean(messaged, m.Sum);
            var heldMean = ResultStatistics.Mean(held, h.Sum);
            return new RevenueLift(currency, messagedMean, heldMean, messagedMean - heldMean,
                ResultStatistics.MeanDifferenceInterval(messaged, m.Sum, m.SumOfSquares, held, h.Sum, h.SumOfSquares));
        }).ToList();

        return new HoldoutResult(
            held, heldConverted, heldRate, ResultStatistics.Wilson(heldConverted, held),
            messaged, messagedConverted, messagedRate, ResultStatistics.Wilson(messagedConverted, messaged),
            messagedRate - heldRate, ResultStatistics.DifferenceInterval(messagedConverted, messaged, heldConverted, held),
            heldRate > 0 ? (messagedRate - heldRate) / heldRate : null, p, significant, enough, revenue,
            !enough ? $"too small to conclude: each group needs at least {ResultStatistics.MinMembers} customers and {ResultStatistics.MinOutcomes} conversions and non-conversions"
            : significant ? (z > 0 ? "the journey raises conversion" : "the journey lowers conversion")
            : "no significant difference from the holdout");
    }

    private static long Members(ResultCounters counters, string group) =>
        counters.Total(k => k.Group == group && k.Measure is Measures.Entered or Measures.Assigned).Count;

    private static IReadOnlyList<DayResult> Days(ResultCounters counters) =>
        counters.Values.GroupBy(v => v.Key.Day).OrderBy(g => g.Key).Select(g =>
        {
            long Count(string measure) => g.Where(v => v.Key.Measure == measure).Sum(v => v.Value.Count);
            return new DayResult(g.Key, Count(Measures.Entered), Count(Measures.Sent), Count(Measures.Delivered), Count(Measures.Clicked), Count(Measures.Converted));
        }).ToList();

    private static IReadOnlyList<CurrencyAmount> Revenue(ResultCounters counters, Func<CounterKey, bool> where) =>
        counters.Values.Where(v => v.Key.Currency.Length > 0 && where(v.Key)).GroupBy(v => v.Key.Currency).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new CurrencyAmount(g.Key, g.Sum(v => v.Value.Sum))).ToList();

    private static IReadOnlyList<ReasonCount> ByReason(ResultCounters counters, string measure, Func<CounterKey, bool> where) =>
        counters.Values.Where(v => v.Key.Measure == measure && where(v.Key)).GroupBy(v => v.Key.Reason).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => new ReasonCount(g.Key.Length == 0 ? "unspecified" : g.Key, g.Sum(v => v.Value.Count))).ToList();

    private static int OrderOf(List<string> branchOrder, string group)
    {
        var first = group.Split(',')[0];
        var index = branchOrder.IndexOf(first);
        return index < 0 ? int.MaxValue : index;
    }

    private static string Span(TimeSpan span) =>
        span.TotalDays >= 1 && span.TotalDays == Math.Floor(span.TotalDays) ? Plural((int)span.TotalDays, "day")
        : span.TotalHours == Math.Floor(span.TotalHours) ? Plural((int)span.TotalHours, "hour")
        : Plural((int)Math.Ceiling(span.TotalMinutes), "minute");

    private static string Plural(int count, string unit) => count == 1 ? $"1 {unit}" : $"{count} {unit}s";
}
