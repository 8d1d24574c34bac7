using Nudge.Core.Pipeline;

namespace Nudge.Core.Tests;

public class OptimisticConcurrencyTests
{
    [Fact]
    public async Task LostRaces_AreTriedAgainWithTheirNumbers_UntilOneIsDone()
    {
        var seen = new List<int>();

        var result = await OptimisticConcurrency.RetryAsync("The row", number =>
        {
            seen.Add(number);
            return Task.FromResult(number < 3 ? Attempt.Lost : Attempt.Done("written"));
        }, CancellationToken.None);

        Assert.Equal("written", result);
        Assert.Equal([0, 1, 2, 3], seen);
    }

    [Fact]
    public async Task RowThatStaysContended_FailsAfterTheLimit_NamingWhat()
    {
        var attempts = 0;

        var error = await Assert.ThrowsAsync<ConcurrencyException>(() => OptimisticConcurrency.RetryAsync<int>("Rate bucket 'sms'", _ =>
        {
            attempts++;
            return Task.FromResult<Attempt<int>>(Attempt.Lost);
        }, CancellationToken.None));

        Assert.Equal(OptimisticConcurrency.MaxAttempts, attempts);
        Assert.StartsWith("Rate bucket 'sms'", error.Message);
    }

    [Fact]
    public async Task DoneWithDefaultValue_IsDone_NotALostRace()
    {
        var attempts = 0;

        var result = await OptimisticConcurrency.RetryAsync<int?>("The row", _ =>
        {
            attempts++;
            return Task.FromResult(Attempt.Done<int?>(null));
        }, CancellationToken.None);

        Assert.Null(result);
        Assert.Equal(1, attempts);
    }
}
