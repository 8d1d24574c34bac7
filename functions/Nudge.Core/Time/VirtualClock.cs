namespace Nudge.Core.Time;

/// <summary>
/// Virtual time for local runs: <c>now = VirtualAnchor + (real - RealAnchor) × Speed</c>. At speed 1 with equal
/// anchors it is real time. Anchors are persisted so virtual time keeps going forward across restarts.
/// </summary>
public sealed class VirtualClock(TimeProvider real, ClockAnchor anchor) : TimeProvider
{
    public ClockAnchor Anchor { get; } = anchor;

    public double Speed => Anchor.Speed;

    public override DateTimeOffset GetUtcNow() => Anchor.VirtualAt(real.GetUtcNow());

    /// <summary>How long to wait in real time for <paramref name="virtualDelay"/> to pass in virtual time.</summary>
    public TimeSpan ToRealDelay(TimeSpan virtualDelay) =>
        virtualDelay <= TimeSpan.Zero ? TimeSpan.Zero : TimeSpan.FromTicks((long)Math.Ceiling(virtualDelay.Ticks / Anchor.Speed));
}

/// <summary>A fixed point where real and virtual time are known to correspond, and the speed from there on.</summary>
public sealed record ClockAnchor(DateTimeOffset RealAt, DateTimeOffset VirtualAtAnchor, double Speed)
{
    public DateTimeOffset VirtualAt(DateTimeOffset real) =>
        VirtualAtAnchor + TimeSpan.FromTicks((long)((real - RealAt).Ticks * Speed));

    /// <summary>The real time at which virtual time reaches <paramref name="virtualAt"/> (never a tick early).</summary>
    public DateTimeOffset RealAtVirtual(DateTimeOffset virtualAt) =>
        RealAt + TimeSpan.FromTicks((long)Math.Ceiling((virtualAt - VirtualAtAnchor).Ticks / Speed));

    /// <summary>The anchor to use from <paramref name="realNow"/> at <paramref name="speed"/>: keeps virtual time continuous.</summary>
    public static ClockAnchor Continue(ClockAnchor? stored, DateTimeOffset realNow, double speed)
    {
        if (speed <= 0 || double.IsNaN(speed) || double.IsInfinity(speed))
        {
            throw new ArgumentOutOfRangeException(nameof(speed), speed, "Clock speed must be a positive number.");
        }

        if (stored is null)
        {
            return new ClockAnchor(realNow, realNow, speed);
        }

        if (stored.Speed.Equals(speed))
        {
            return stored;
        }

        var virtualNow = stored.VirtualAt(realNow);
        // Virtual time never runs behind real time, and never backwards.
        return new ClockAnchor(realNow, virtualNow > realNow ? virtualNow : realNow, speed);
    }
}
