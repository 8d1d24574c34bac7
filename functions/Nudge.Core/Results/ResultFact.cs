using System.Security.Cryptography;
using System.Text;

namespace Nudge.Core.Results;

/// <summary>What a journey's results count. Persisted names: wire contracts, never renamed.</summary>
public static class Measures
{
    /// <summary>An instance started (counted under the group it was in when its first decision was made).</summary>
    public const string Entered = "entered";

    /// <summary>An instance joined an A/B branch or the holdout after its entry (a split or holdout step after a wait).</summary>
    public const string Assigned = "assigned";

    public const string Sent = "sent";
    public const string Delivered = "delivered";
    public const string Bounced = "bounced";
    public const string Opened = "opened";
    public const string Clicked = "clicked";
    public const string Unsubscribed = "unsubscribed";
    public const string Suppressed = "suppressed";
    public const string Deferred = "deferred";
    public const string Capped = "capped";
    public const string Failed = "failed";
    public const string Unconfirmed = "unconfirmed";

    /// <summary>The goal within the attribution window of a message (or of the entry, for the holdout): the conversion.</summary>
    public const string Converted = "converted";

    /// <summary>
    /// The goal within the journey's conversion window after entry, messaged or held out alike: the like-for-like
    /// measure the holdout's lift compares. Its amount is the order's value.
    /// </summary>
    public const string GoalAfterEntry = "goalAfterEntry";
}

/// <summary>
/// One counted thing that happened: a status change, a report, a click, an entry, a conversion. Its
/// <see cref="Id"/> is minted from what it is about (a delivery, an instance), so recording it again — a
/// redelivered message, a repeated report — counts nothing new. Carries no personal data: ids are hashed.
/// </summary>
public sealed record ResultFact(string Id, string JourneyId, string Measure, DateTimeOffset At)
{
    /// <summary>The step's index in the journey, where the fact is about a step.</summary>
    public int? Step { get; init; }

    public string? Channel { get; init; }

    /// <summary>The instance's group: "" (no test), <see cref="Groups.Holdout"/>, or its A/B branches (<see cref="Groups.Of"/>).</summary>
    public string Group { get; init; } = "";

    /// <summary>Why (a suppression, a deferral or a cap), as a short category without personal data.</summary>
    public string? Reason { get; init; }

    /// <summary>An amount (a conversion's order value) in <see cref="Currency"/>.</summary>
    public decimal Amount { get; init; }

    public string? Currency { get; init; }

    /// <summary>A fact id from the natural key of what is counted: a hash, so no customer id is kept.</summary>
    public static string IdFor(string measure, string about)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{measure}\n{about}"), hash);
        return Convert.ToHexStringLower(hash[..16]);
    }
}

/// <summary>The A/B group label of an instance: what results are broken down by.</summary>
public static class Groups
{
    public const string Holdout = "holdout";

    public static string Of(Journeys.JourneyInstance instance) =>
        instance.HeldOut ? Holdout
        : instance.Branches.Count == 0 ? ""
        : string.Join(",", instance.Branches.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => $"{b.Key}:{b.Value}"));
}
