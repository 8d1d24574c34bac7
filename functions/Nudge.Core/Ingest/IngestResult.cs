using Nudge.Core.Events;

namespace Nudge.Core.Ingest;

/// <summary>What a source's payload maps to: an event, nothing the engine needs, or a client mistake.</summary>
public abstract record IngestParse
{
    public sealed record Mapped(CustomerEvent Event) : IngestParse;

    public sealed record Ignored(string Reason) : IngestParse;

    public sealed record Invalid(string Detail) : IngestParse;
}
