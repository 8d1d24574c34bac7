using Microsoft.Extensions.Time.Testing;
using Nudge.Channels.Routing;
using Nudge.Core.Delivery;
using Nudge.Core.Pipeline;
using Nudge.Storage;
using Nudge.Testing;

namespace Nudge.Channels.Tests;

/// <summary>The shared rate slots on Azurite, on a fake clock.</summary>
public class ProviderThrottleTests
{
    /// <summary>The real bucket store, with each reservation taking <paramref name="roundTrip"/> of (fake) time, as under load.</summary>
    private sealed class SlowStore(IRateLimitStore inner, FakeTimeProvider time, TimeSpan roundTrip) : IRateLimitStore
    {
        public int Reservations;

        public async Task<RateReservation> ReserveAsync(string bucket, TimeSpan interval, int count, DateTimeOffset now, TimeSpan maxWait, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Reservations);
            var reservation = await inner.ReserveAsync(bucket, interval, count, now, maxWait, cancellationToken);
            time.Advance(roundTrip);
            return reservation;
        }
    }

    [Fact]
    public async Task Acquire_ReservationSlowerThanABatch_StartsTheNextBatchAfterTheWriteInsteadOfDroppingItForever()
    {
        var clients = TestStorage.Clients();
        var names = new StorageNames(TestStorage.NewPrefix());
        await new StorageProvisioner(clients, names).EnsureAsync(CancellationToken.None);
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 1, 0, 0, TimeSpan.Zero));
        // 1000/s: a batch of 64 slots spans 67 ms; a 100 ms round trip makes every slot of a batch that starts at
        // "now" later than the 25 ms tolerance by the time it is written.
        var store = new SlowStore(new TableRateLimitStore(clients.Tables, names), time, TimeSpan.FromMilliseconds(100));
        var throttle = new ProviderThrottle("slow", [new RateLimit(1000, TimeSpan.FromSeconds(1))], store, time);

        var freeAt = await throttle.AcquireAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Null(freeAt); // a slot, not "come back later"
        Assert.Equal(2, store.Reservations); // the first batch was lost to the unknown round trip; the second started after it
    }
}
