using Nudge.Core.Pipeline;

namespace Nudge.Core.Imports;

public interface IImportStore
{
    Task<Versioned<ImportState>?> GetAsync(string importId, CancellationToken cancellationToken);

    /// <summary>Writes if the stored version is still <paramref name="expectedVersion"/> (null: must not exist yet); the new version, or null on a lost race.</summary>
    Task<string?> TrySaveAsync(ImportState state, string? expectedVersion, CancellationToken cancellationToken);
}

/// <summary>Uploaded import files, kept until the import is done with them.</summary>
public interface IImportFiles
{
    /// <summary>Stores the stream under <paramref name="name"/>; null (and nothing kept) if it is longer than <paramref name="maxBytes"/>.</summary>
    Task<StoredFile?> SaveAsync(string name, Stream content, long maxBytes, CancellationToken cancellationToken);

    Task<Stream> OpenReadAsync(string name, long offset, CancellationToken cancellationToken);

    Task DeleteAsync(string name, CancellationToken cancellationToken);
}

/// <summary>The stored length and SHA-256 (hex) of an uploaded file.</summary>
public sealed record StoredFile(long Bytes, string Sha256);

/// <summary>Work for the import function: a message names the import whose next slice is due.</summary>
public interface IImportQueue
{
    Task EnqueueImportAsync(ImportWorkMessage message, CancellationToken cancellationToken);
}

/// <summary>Queue message shape (a wire contract).</summary>
public sealed record ImportWorkMessage(string ImportId);
