namespace Nudge.Core.Pipeline;

/// <summary>
/// The one retry policy for read-decide-write under optimistic concurrency (a row's version, an ETag): an attempt that
/// lost its race reads and decides again after a short jittered pause (so racing writers spread out); a row that stays
/// contended past the limit is an error, and the transport's redelivery tries again later.
/// </summary>
public static class OptimisticConcurrency
{
    public const int MaxAttempts = 16;
    private const int MaxPauseMilliseconds = 100;

    /// <param name="what">What could not be written, for the error: no personal data.</param>
    /// <param name="attempt">One read-decide-write, given its number from 0: <see cref="Attempt.Done{T}"/> or <see cref="Attempt.Lost"/>.</param>
    public static async Task<T> RetryAsync<T>(string what, Func<int, Task<Attempt<T>>> attempt, CancellationToken cancellationToken)
    {
        for (var number = 0; number < MaxAttempts; number++)
        {
            if (number > 0)
            {
                await Task.Delay(Pause(number), cancellationToken);
            }

            var outcome = await attempt(number);
            if (outcome.IsDone)
            {
                return outcome.Value;
            }
        }

        throw new ConcurrencyException($"{what}: the row stayed contended for {MaxAttempts} attempts.");
    }

    /// <summary>Up to 2, 4, 8, … ms, at most <see cref="MaxPauseMilliseconds"/>: the first retries come at once.</summary>
    private static TimeSpan Pause(int number) =>
        TimeSpan.FromMilliseconds(Random.Shared.Next(0, Math.Min(MaxPauseMilliseconds, 1 << Math.Min(number, 16)) + 1));
}

/// <summary>How one attempt of <see cref="OptimisticConcurrency.RetryAsync{T}"/> ended: done with a value, or lost its race.</summary>
public readonly record struct Attempt<T>(bool IsDone, T Value)
{
    public static implicit operator Attempt<T>(LostRace _) => default;
}

/// <summary>An attempt lost to another writer: read and decide again.</summary>
public readonly record struct LostRace;

public static class Attempt
{
    public static readonly LostRace Lost = default;

    public static Attempt<T> Done<T>(T value) => new(true, value);
}

/// <summary>Optimistic concurrency kept losing; the transport's retry will try again later.</summary>
public sealed class ConcurrencyException(string message) : Exception(message);
