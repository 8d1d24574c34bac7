namespace Nudge.Core.Delivery;

/// <summary>Delivery status strings are wire contracts (stored and returned by the API).</summary>
public static class DeliveryStatus
{
    public const string Queued = "queued";
    public const string Sent = "sent";
    public const string Suppressed = "suppressed";

    public static bool IsFinal(string status) => status is Sent or Suppressed;
}
