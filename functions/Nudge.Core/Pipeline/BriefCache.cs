namespace Nudge.Core.Pipeline;

/// <summary>
/// Keeps a value read from storage for a short while, so every message does not re-read data that changes rarely
/// (the journey catalog, segments). A change made through this process invalidates it at once; other processes see
/// it within the lifetime.
/// </summary>
public sealed class BriefCache<T>(TimeSpan lifetime) where T : class
{
    private sealed record Entry(long LoadedAt, T Value);

    private volatile Entry? _entry;

    public async Task<T> GetAsync(Func<Task<T>> load)
    {
        var now = Environment.TickCount64;
        if (_entry is { } entry && now - entry.LoadedAt < lifetime.TotalMilliseconds)
        {
            return entry.Value;
        }

        var value = await load();
        _entry = new Entry(now, value);
        return value;
    }

    public void Invalidate() => _entry = null;
}
