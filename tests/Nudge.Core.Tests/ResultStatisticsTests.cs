using FsCheck.Xunit;
using Nudge.Core.Results;

namespace Nudge.Core.Tests;

/// <summary>The results statistics against published and hand-worked values, and their invariants over random counts.</summary>
public class ResultStatisticsTests
{
    [Fact]
    public void Wilson_TenOfHundred_MatchesThePublishedInterval()
    {
        var (low, high) = ResultStatistics.Wilson(10, 100);

        Assert.Equal(0.0552, low, 4);
        Assert.Equal(0.1744, high, 4);
    }

    [Fact]
    public void Wilson_NoTrials_IsTheWholeRange() => Assert.Equal(new Interval(0, 1), ResultStatistics.Wilson(0, 0));

    [Fact]
    public void DifferenceInterval_NewcombesExample_MatchesMethodTen()
    {
        // Newcombe (1998), Statistics in Medicine 17:873, example (a): 56/70 − 48/80, method 10: 0.0524 to 0.3339.
        var (low, high) = ResultStatistics.DifferenceInterval(56, 70, 48, 80);

        Assert.Equal(0.0524, low, 4);
        Assert.Equal(0.3339, high, 4);
    }

    [Fact]
    public void TwoProportionZTest_SixtyVersusForty_IsSignificant()
    {
        var (z, p) = ResultStatistics.TwoProportionZTest(60, 100, 40, 100);

        Assert.Equal(2.8284, z, 4);
        Assert.Equal(0.00468, p, 5);
    }

    [Fact]
    public void NormalUpperTail_AtTheNinetySevenAndAHalfPercentile_IsTwoAndAHalfPercent() =>
        Assert.Equal(0.025, ResultStatistics.NormalUpperTail(ResultStatistics.Z95), 6);

    [Fact]
    public void Holm_ThreeTests_StepsDownAndStaysMonotone() =>
        Assert.Equal([0.03, 0.06, 0.06], ResultStatistics.Holm([0.01, 0.04, 0.03]).Select(p => Math.Round(p, 10)));

    [Fact]
    public void MeanDifferenceInterval_SmallGroups_UsesWelchStandardError()
    {
        // Amounts {0, 0, 10, 10} against {0, 0, 0, 10}: means 5 and 2.5, variances 100/3 and 25, SE √(100/12 + 25/4).
        var interval = ResultStatistics.MeanDifferenceInterval(4, 20, 200, 4, 10, 100)!;

        Assert.Equal(2.5 - 1.959964 * Math.Sqrt(100.0 / 12 + 25.0 / 4), interval.Low, 5);
        Assert.Equal(2.5 + 1.959964 * Math.Sqrt(100.0 / 12 + 25.0 / 4), interval.High, 5);
        Assert.Null(ResultStatistics.MeanDifferenceInterval(0, 0, 0, 4, 10, 100));
    }

    [Property(MaxTest = 500)]
    public bool Wilson_ContainsTheObservedRateWithinZeroToOne(ushort trialsSeed, ushort successSeed)
    {
        var trials = trialsSeed % 5000 + 1;
        var successes = successSeed % (trials + 1);
        var (low, high) = ResultStatistics.Wilson(successes, trials);
        var rate = (double)successes / trials;
        return 0 <= low && low <= rate + 1e-12 && rate - 1e-12 <= high && high <= 1;
    }

    [Property(MaxTest = 300)]
    public bool Holm_AdjustedIsAtLeastRawAndAtMostOne(int seed)
    {
        var random = new Random(seed);
        var raw = Enumerable.Range(0, random.Next(1, 8)).Select(_ => random.NextDouble()).ToList();
        var adjusted = ResultStatistics.Holm(raw);
        return raw.Zip(adjusted).All(p => p.Second >= p.First - 1e-15 && p.Second <= 1)
            && raw.Zip(adjusted).OrderBy(p => p.First).Select(p => p.Second).Zip(raw.Zip(adjusted).OrderBy(p => p.First).Select(p => p.Second).Skip(1)).All(p => p.First <= p.Second);
    }

    [Property(MaxTest = 300)]
    public bool Counters_FoldedInAnyChunks_EqualAddedAtOnce(int seed)
    {
        var random = new Random(seed);
        var zone = TimeZoneInfo.Utc;
        var facts = Enumerable.Range(0, random.Next(1, 60)).Select(i => new ResultFact($"f{i}", "j", random.Next(2) == 0 ? Measures.Sent : Measures.Converted,
            new DateTimeOffset(2026, 12, 1 + random.Next(3), random.Next(24), 0, 0, TimeSpan.Zero))
        {
            Step = random.Next(3), Channel = "sms", Amount = random.Next(0, 100_000), Currency = random.Next(2) == 0 ? "KRW" : "USD",
        }).ToList();
        var atOnce = new ResultCounters();
        facts.ForEach(f => atOnce.Add(f, zone));
        var folded = new ResultCounters();
        foreach (var chunk in facts.OrderBy(_ => random.Next()).Chunk(random.Next(1, 10)))
        {
            var part = new ResultCounters();
            foreach (var fact in chunk)
            {
                part.Add(fact, zone);
            }

            folded.Add(part);
        }

        return atOnce.Values.Count == folded.Values.Count && atOnce.Values.All(v => folded.Values[v.Key] == v.Value);
    }
}
