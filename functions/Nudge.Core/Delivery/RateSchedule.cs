using Nudge.Core.Pipeline;

namespace Nudge.Core.Delivery;

/// <summary>
/// A provider limit such as ACS Email's 30 per minute: at most <see cref="Count"/> requests in any window of
/// <see cref="Period"/>.
/// </summary>
public sealed record RateLimit(int Count, TimeSpan Period)
{
    /// <summary>Parses <c>30/1m</c>, <c>100/1h</c>, <c>20/1s</c>.</summary>
    public static RateLimit Parse(string text)
    {
        var parts = text.Trim().Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out var count) || count <= 0 || parts[1].Length < 2
            || !int.TryParse(parts[1][..^1], out var amount) || amount <= 0)
        {
            throw new FormatException($"'{text}' is not a rate limit like 30/1m, 100/1h or 20/1s.");
        }

        var period = parts[1][^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => throw new FormatException($"'{text}': the period unit must be s, m, h or d."),
        };
        return new RateLimit(count, period);
    }
}

/// <summary>
/// Evenly spaced send slots (GCRA with no burst): a slot every Period/Count, so no window of Period ever holds
/// more than Count sends, however the slots are spread over workers. Several limits (per minute and per hour)
/// combine into the widest spacing. The state is one instant: the theoretical time of the next free slot.
/// </summary>
public static class RateSchedule
{
    /// <summary>How much wider than Period/Count the slots are spaced.</summary>
    public const double Margin = 0.05;

    /// <summary>The spacing that honours every limit, widened by <see cref="Margin"/>.</summary>
    public static TimeSpan Interval(IEnumerable<RateLimit> limits) =>
        TimeSpan.FromTicks((long)(limits.Max(l => l.Period.Ticks / (double)l.Count) * (1 + Margin)));

    /// <summary>
    /// How late after its slot a send may still leave. Slots spaced Period·(1+m)/Count put fewer than Count of them
    /// in any window of Period + m·Period, so sends at most m·Period late (half that, for jitter) stay within the limit.
    /// </summary>
    public static TimeSpan LatenessTolerance(IEnumerable<RateLimit> limits) =>
        TimeSpan.FromTicks((long)(limits.Min(l => l.Period.Ticks) * Margin / 2));

    /// <summary>The reservation and the new next-free instant (unchanged when nothing is granted).</summary>
    public static (RateReservation Reservation, DateTimeOffset NextFree) Reserve(DateTimeOffset? nextFree, TimeSpan interval, int count, DateTimeOffset now, TimeSpan maxWait)
    {
        var first = nextFree is { } free && free > now ? free : now;
        if (first > now + maxWait)
        {
            return (new RateReservation(false, first, 0), nextFree ?? now);
        }

        return (new RateReservation(true, first, count), first + interval * count);
    }
}
