namespace Nudge.Core.Delivery;

/// <summary>The send rate limits of the provider that carries a channel's messages (what its throttle holds sends to).</summary>
public interface IChannelRates
{
    IReadOnlyList<RateLimit> LimitsOf(string channel);
}
