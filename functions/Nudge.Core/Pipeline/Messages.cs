using System.Text.Json.Serialization;
using Nudge.Core.Customers;
using Nudge.Core.Events;

namespace Nudge.Core.Pipeline;

/// <summary>
/// Queue message shapes are wire contracts: add fields, never rename. (A <c>replayed</c> flag that replays of older
/// versions added is ignored: a replayed journey message is handled like any redelivery.)
/// </summary>
/// <param name="TraceParent">The W3C trace context the event was accepted in (see <see cref="PipelineTracing"/>); absent in older messages.</param>
public sealed record JourneyEventMessage(
    string Platform, string CustomerId, string EventId,
    [property: JsonPropertyName(PipelineTracing.TraceParentProperty), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    public CustomerKey Customer => new(Platform, CustomerId);
}

/// <summary>
/// journey-events, second shape: several events in one message (ingest hands a whole intake batch over in one
/// storage operation). Each reference is handled on its own, exactly as if it had come as a
/// <see cref="JourneyEventMessage"/>, which stays a valid message on the same queue.
/// </summary>
public sealed record JourneyEventsMessage(IReadOnlyList<JourneyEventMessage> Events);

/// <summary>One accepted delivery as the intake keeps it until it is materialized: the mapped event and the body as received.</summary>
/// <param name="TraceParent">The W3C trace context of the request that delivered it: a batch holds the deliveries of many requests.</param>
public sealed record IntakeEntry(
    string DeliveryId, CustomerEvent Event, byte[] RawBody,
    [property: JsonPropertyName(PipelineTracing.TraceParentProperty), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null);

/// <summary>
/// ingest-batches: deliveries acknowledged together after this one message was written (group commit). The batch id
/// marks the event rows its processing claims, so a redelivered message recognizes its own work. The entries travel
/// as a gzipped JSON array: a queue message holds 64 KiB, and deliveries from one shop share most of their text, so
/// compressed a message carries a whole batch instead of a couple of dozen deliveries (and the storage moves a
/// seventh of the bytes).
/// </summary>
public sealed record IngestBatchMessage(string BatchId, string EntriesGzip)
{
    /// <summary>
    /// Most characters of one message's JSON: a queue message holds 64 KiB, and the queue client encodes the text as
    /// base64 (4/3 of it).
    /// </summary>
    public const int MaxChars = 45_000;

    /// <summary>The largest entry (its JSON) a batch takes: even incompressible it fits in a message alone.</summary>
    public const int MaxEntryChars = 30_000;

    /// <summary>The message's JSON from entries serialized beforehand (each request serializes its own, in parallel); null if it would exceed <see cref="MaxChars"/>.</summary>
    public static string? Compose(string batchId, IReadOnlyList<string> entriesJson)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(buffer, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new StreamWriter(gzip, new System.Text.UTF8Encoding(false)))
        {
            writer.Write('[');
            for (var i = 0; i < entriesJson.Count; i++)
            {
                writer.Write(i == 0 ? "" : ",");
                writer.Write(entriesJson[i]);
            }

            writer.Write(']');
        }

        var json = System.Text.Json.JsonSerializer.Serialize(new IngestBatchMessage(batchId, Convert.ToBase64String(buffer.GetBuffer(), 0, (int)buffer.Length)), NudgeJson.Options);
        return json.Length <= MaxChars ? json : null;
    }

    public IReadOnlyList<IntakeEntry> ReadEntries()
    {
        using var gzip = new System.IO.Compression.GZipStream(new MemoryStream(Convert.FromBase64String(EntriesGzip)), System.IO.Compression.CompressionMode.Decompress);
        return System.Text.Json.JsonSerializer.Deserialize<IReadOnlyList<IntakeEntry>>(gzip, NudgeJson.Options)
            ?? throw new InvalidDataException($"Ingest batch {BatchId} has no entries.");
    }
}

/// <summary>
/// One message to deliver. <paramref name="Order"/> carries what the journey decided, so the worker needs no row
/// before it claims one; without it (older messages, notices) the worker reads the queued row under the id.
/// <paramref name="TraceParent"/> is the W3C trace context the send was decided in (see <see cref="PipelineTracing"/>).
/// </summary>
public sealed record DeliveryMessage(
    string Platform, string CustomerId, string DeliveryId, DeliveryOrder? Order = null,
    [property: JsonPropertyName(PipelineTracing.TraceParentProperty), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? TraceParent = null)
{
    public CustomerKey Customer => new(Platform, CustomerId);

    /// <summary>The message a queue body holds, or null when it is not one (it is left for a person to look at).</summary>
    public static DeliveryMessage? TryParse(ReadOnlySpan<byte> json)
    {
        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<DeliveryMessage>(json, NudgeJson.Options) is { DeliveryId.Length: > 0, Platform: not null, CustomerId: not null } message
                ? message : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>The delivery log row for this order before any attempt.</summary>
    public DeliveryRecord? QueuedRecord() => Order is { } order
        ? new DeliveryRecord
        {
            DeliveryId = DeliveryId, Customer = Customer, JourneyId = order.JourneyId, StepIndex = order.StepIndex, Channel = order.Channel,
            Template = order.Template, Class = order.Class, Status = Delivery.DeliveryStatus.Queued, ScheduledFor = order.ScheduledFor,
            Group = order.Group,
        }
        : null;
}

/// <summary>What a journey asked to send, carried in its delivery message.</summary>
/// <param name="Group">The instance's A/B group when it was decided (see <see cref="Results.Groups"/>), for results; absent in older messages.</param>
public sealed record DeliveryOrder(
    string JourneyId, int StepIndex, string Channel, string Template, Delivery.MessageClass Class, DateTimeOffset ScheduledFor,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Group = null);

/// <summary>One row of the delivery log: what a journey asked to send and what became of it.</summary>
public sealed record DeliveryRecord
{
    public required string DeliveryId { get; init; }
    public required CustomerKey Customer { get; init; }
    public required string JourneyId { get; init; }
    public required int StepIndex { get; init; }
    public required string Channel { get; init; }
    public required string Template { get; init; }
    public required Delivery.MessageClass Class { get; init; }
    public required string Status { get; init; }
    public required DateTimeOffset ScheduledFor { get; init; }
    public DateTimeOffset? SentAt { get; init; }
    public string? Reason { get; init; }
    public string? ProviderMessageId { get; init; }

    /// <summary>Provider calls made so far (0 while queued for the first time).</summary>
    public int Attempts { get; init; }

    /// <summary>What went out (sms, lms, alimtalk, brand, email) and through which provider.</summary>
    public string? Kind { get; init; }

    public string? Provider { get; init; }

    /// <summary>While "sending": until when the claiming worker is presumed alive (then a redelivery resumes it).</summary>
    public DateTimeOffset? ClaimedUntil { get; init; }

    /// <summary>A failed attempt may have sent it through this provider: retries go there only (see OutboundMessage).</summary>
    public string? MaybeSentVia { get; init; }

    /// <summary>The instance's A/B group (results break sends down by it); null where there is none.</summary>
    public string? Group { get; init; }
}
