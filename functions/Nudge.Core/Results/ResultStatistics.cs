namespace Nudge.Core.Results;

/// <summary>A two-sided 95% interval.</summary>
public sealed record Interval(double Low, double High);

/// <summary>
/// The statistics behind the results page, pure. Conversion rates get Wilson score intervals (good at small counts
/// and near 0 or 1, unlike the Wald interval); two groups' rates are compared with the pooled two-proportion z-test
/// (two-sided), and their difference gets Newcombe's hybrid score interval (method 10, built from the two Wilson
/// intervals); several variants compared with one baseline are held to a family-wise 5% by Holm's step-down
/// correction. Revenue per customer (non-buyers count as 0) is compared by the difference of means with the
/// Welch (unpooled) standard error from per-group sums and sums of squares, under the normal approximation.
/// </summary>
public static class ResultStatistics
{
    /// <summary>z for a two-sided 95% interval.</summary>
    public const double Z95 = 1.959963984540054;

    public const double Alpha = 0.05;

    /// <summary>Fewer members than this in a group, or fewer than <see cref="MinOutcomes"/> conversions or non-conversions: too small to conclude.</summary>
    public const int MinMembers = 30;

    public const int MinOutcomes = 5;

    public static double Rate(long successes, long trials) => trials == 0 ? 0 : (double)successes / trials;

    /// <summary>Wilson score interval for a proportion; [0, 1] with no trials.</summary>
    public static Interval Wilson(long successes, long trials, double z = Z95)
    {
        if (trials <= 0)
        {
            return new Interval(0, 1);
        }

        var n = (double)trials;
        var p = successes / n;
        var z2 = z * z;
        var centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        var half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new Interval(Math.Max(0, centre - half), Math.Min(1, centre + half));
    }

    /// <summary>Newcombe's hybrid score interval for p1 − p2.</summary>
    public static Interval DifferenceInterval(long successes1, long trials1, long successes2, long trials2)
    {
        var p1 = Rate(successes1, trials1);
        var p2 = Rate(successes2, trials2);
        var (l1, u1) = Wilson(successes1, trials1);
        var (l2, u2) = Wilson(successes2, trials2);
        var d = p1 - p2;
        var low = d - Math.Sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
        var high = d + Math.Sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
        return new Interval(Math.Max(-1, low), Math.Min(1, high));
    }

    /// <summary>Pooled two-proportion z-test of p1 = p2: the z statistic and its two-sided p-value (1 when undefined).</summary>
    public static (double Z, double PValue) TwoProportionZTest(long successes1, long trials1, long successes2, long trials2)
    {
        if (trials1 == 0 || trials2 == 0)
        {
            return (0, 1);
        }

        var pooled = (double)(successes1 + successes2) / (trials1 + trials2);
        var se = Math.Sqrt(pooled * (1 - pooled) * (1.0 / trials1 + 1.0 / trials2));
        if (se == 0)
        {
            return (0, 1);
        }

        var z = (Rate(successes1, trials1) - Rate(successes2, trials2)) / se;
        return (z, 2 * NormalUpperTail(Math.Abs(z)));
    }

    /// <summary>Holm's step-down adjusted p-values (same order as given): reject where adjusted &lt; <see cref="Alpha"/>.</summary>
    public static IReadOnlyList<double> Holm(IReadOnlyList<double> pValues)
    {
        var m = pValues.Count;
        var order = Enumerable.Range(0, m).OrderBy(i => pValues[i]).ToArray();
        var adjusted = new double[m];
        var running = 0.0;
        for (var rank = 0; rank < m; rank++)
        {
            running = Math.Max(running, Math.Min(1, (m - rank) * pValues[order[rank]]));
            adjusted[order[rank]] = running;
        }

        return adjusted;
    }

    /// <summary>Whether two groups are large enough for the normal approximations above.</summary>
    public static bool LargeEnough(long successes1, long trials1, long successes2, long trials2) =>
        trials1 >= MinMembers && trials2 >= MinMembers
        && Math.Min(successes1, trials1 - successes1) >= MinOutcomes && Math.Min(successes2, trials2 - successes2) >= MinOutcomes;

    /// <summary>Mean per member from a sum over <paramref name="members"/> (those without an amount count as 0).</summary>
    public static double Mean(long members, decimal sum) => members == 0 ? 0 : (double)sum / members;

    /// <summary>Sample variance per member from the sum and sum of squares of the members' amounts (zeros included).</summary>
    public static double Variance(long members, decimal sum, decimal sumOfSquares)
    {
        if (members < 2)
        {
            return 0;
        }

        var n = (double)members;
        var s = (double)sum;
        return Math.Max(0, ((double)sumOfSquares - s * s / n) / (n - 1));
    }

    /// <summary>Interval for mean1 − mean2 with the Welch standard error (normal approximation).</summary>
    /// <returns>Null when a group is empty (nothing to compare).</returns>
    public static Interval? MeanDifferenceInterval(long members1, decimal sum1, decimal sumOfSquares1, long members2, decimal sum2, decimal sumOfSquares2)
    {
        if (members1 == 0 || members2 == 0)
        {
            return null;
        }

        var d = Mean(members1, sum1) - Mean(members2, sum2);
        var se = Math.Sqrt(Variance(members1, sum1, sumOfSquares1) / members1 + Variance(members2, sum2, sumOfSquares2) / members2);
        return new Interval(d - Z95 * se, d + Z95 * se);
    }

    /// <summary>P(Z &gt; z) for a standard normal Z: erfc through the Numerical Recipes Chebyshev fit (relative error below 1.2e-7).</summary>
    public static double NormalUpperTail(double z) => 0.5 * Erfc(z / Math.Sqrt(2));

    private static double Erfc(double x)
    {
        var z = Math.Abs(x);
        var t = 1 / (1 + 0.5 * z);
        var r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? r : 2 - r;
    }
}
