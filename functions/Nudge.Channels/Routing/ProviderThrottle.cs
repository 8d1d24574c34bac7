using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;

namespace Nudge.Channels.Routing;

/// <summary>
/// One provider's share of its limits, in real time (providers count real requests). Slots come from the shared
/// bucket in batches of about <see cref="BatchWindow"/> worth and are handed to this process's workers in order; a
/// worker waits for its slot, so requests leave evenly spaced. A slot nobody used in time is dropped, never sent
/// late next to a newer one, so no window ever holds more than the limit. When the next free slot is further away
/// than <see cref="MaxWait"/>, the caller is told when to come back instead (the message is re-queued, not held).
/// </summary>
public sealed class ProviderThrottle(string bucket, IReadOnlyList<RateLimit> limits, IRateLimitStore store, TimeProvider realClock)
{
    public static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(250);
    public static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(5);

    private readonly TimeSpan _interval = RateSchedule.Interval(limits);
    private readonly TimeSpan _tolerance = RateSchedule.LatenessTolerance(limits);
    private readonly Queue<DateTimeOffset> _slots = new();
    private readonly SemaphoreSlim _refill = new(1, 1);
    private TimeSpan _reserveRoundTrip = TimeSpan.Zero;

    public TimeSpan Interval => _interval;

    /// <summary>Waits for a send slot and returns null, or returns the real time at which a slot frees up (nothing reserved).</summary>
    public async Task<DateTimeOffset?> AcquireAsync(CancellationToken cancellationToken)
    {
        // A send may leave at most half the spacing margin (of the shortest period) after its slot; later, the slot
        // is dropped and another taken, so late sends can never squeeze more than the limit into a window.
        var tolerance = _tolerance;
        while (true)
        {
            DateTimeOffset slot;
            await _refill.WaitAsync(cancellationToken);
            try
            {
                var now = realClock.GetUtcNow();
                while (_slots.Count > 0 && _slots.Peek() < now - tolerance)
                {
                    _slots.Dequeue();
                }

                if (_slots.Count == 0)
                {
                    // The batch starts no earlier than the reservation can be written: slots that pass while the shared
                    // row is read and written are too late on arrival and dropped. Under load that round trip is tens
                    // of ms, longer than the tolerance, so the first slots of every batch were lost (and a round trip
                    // longer than a whole batch lost them all, every time). The last round trip predicts the next; the
                    // schedule stays evenly spaced, so no window holds more.
                    var batch = (int)Math.Clamp(BatchWindow.Ticks / _interval.Ticks, 1, 64);
                    var reservation = await store.ReserveAsync(bucket, _interval, batch, now + _reserveRoundTrip, MaxWait, cancellationToken);
                    _reserveRoundTrip = TimeSpan.FromTicks(Math.Min((realClock.GetUtcNow() - now).Ticks, BatchWindow.Ticks));
                    if (!reservation.Granted)
                    {
                        return reservation.FirstSlot;
                    }

                    for (var i = 0; i < reservation.Count; i++)
                    {
                        _slots.Enqueue(reservation.FirstSlot + _interval * i);
                    }
                }

                slot = _slots.Dequeue();
            }
            finally
            {
                _refill.Release();
            }

            var wait = slot - realClock.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, realClock, cancellationToken);
            }

            if (realClock.GetUtcNow() - slot <= tolerance)
            {
                return null;
            }
        }
    }
}

/// <summary>
/// Consecutive transient failures open the circuit for a while; a success closes it. While open, the provider is
/// skipped (the next one takes over) and, if no provider is left, the message waits until the circuit half-opens.
/// </summary>
public sealed class CircuitBreaker(int threshold, TimeSpan openFor, TimeProvider clock)
{
    private readonly Lock _gate = new();
    private int _failures;
    private DateTimeOffset _openUntil = DateTimeOffset.MinValue;

    public DateTimeOffset? OpenUntil
    {
        get
        {
            lock (_gate)
            {
                return _openUntil > clock.GetUtcNow() ? _openUntil : null;
            }
        }
    }

    public void Success()
    {
        lock (_gate)
        {
            _failures = 0;
            _openUntil = DateTimeOffset.MinValue;
        }
    }

    public void Failure()
    {
        lock (_gate)
        {
            if (++_failures >= threshold)
            {
                _openUntil = clock.GetUtcNow() + openFor;
                _failures = threshold - 1; // half-open after the pause: one more failure re-opens it
            }
        }
    }
}
