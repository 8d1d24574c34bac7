namespace Nudge.Core.Delivery;

/// <summary>Delivery status strings are wire contracts (stored and returned by the API).</summary>
public static class DeliveryStatus
{
    public const string Queued = "queued";
    public const string Sent = "sent";
    public const string Suppressed = "suppressed";

    /// <summary>Claimed by a worker that is calling the provider (a crash leaves it here; see OutboundMessage.Resumed).</summary>
    public const string Sending = "sending";

    /// <summary>Permanently refused, or given up after the last retry (then also dead-lettered for replay).</summary>
    public const string Failed = "failed";

    /// <summary>A worker stopped between a provider call and the log write, on a provider that cannot dedupe: not resent.</summary>
    public const string Unconfirmed = "unconfirmed";

    /// <summary>Provider reports after "sent".</summary>
    public const string Delivered = "delivered";

    public const string Bounced = "bounced";

    public static bool IsFinal(string status) => status is Sent or Suppressed or Failed or Unconfirmed or Delivered or Bounced;
}
