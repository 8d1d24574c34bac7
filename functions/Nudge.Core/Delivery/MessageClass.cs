using System.Text.Json.Serialization;

namespace Nudge.Core.Delivery;

/// <summary>Why a message is sent decides which consent and time rules apply to it.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<MessageClass>))]
public enum MessageClass
{
    /// <summary>Advertising: needs marketing consent per medium, ad labels and the night rule.</summary>
    [JsonStringEnumMemberName("ad")] Ad,

    /// <summary>Information the customer benefits from but did not ask for (not an ad).</summary>
    [JsonStringEnumMemberName("informational")] Informational,

    /// <summary>Direct consequence of the customer's own action (receipt, password reset).</summary>
    [JsonStringEnumMemberName("transactional")] Transactional,
}
