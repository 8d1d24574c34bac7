using System.Security.Cryptography;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Nudge.Core.Imports;

namespace Nudge.Storage;

/// <summary>Uploaded import files as block blobs, streamed in (never held whole) with their length bounded and hashed on the way.</summary>
public sealed class BlobImportFiles(BlobServiceClient service, StorageNames names) : IImportFiles
{
    private readonly BlobContainerClient _container = service.GetBlobContainerClient(names.ImportFiles);

    public async Task<StoredFile?> SaveAsync(string name, Stream content, long maxBytes, CancellationToken cancellationToken)
    {
        var blob = _container.GetBlobClient(name);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var bounded = new BoundedHashingStream(content, maxBytes, hash);
        try
        {
            await blob.UploadAsync(bounded, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "text/csv" } }, cancellationToken);
        }
        catch (TooLongException)
        {
            await blob.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
            return null;
        }

        return new StoredFile(bounded.Length, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    public async Task<Stream> OpenReadAsync(string name, long offset, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(name).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false) { Position = offset, BufferSize = 1024 * 1024 }, cancellationToken);

    public Task DeleteAsync(string name, CancellationToken cancellationToken) =>
        _container.GetBlobClient(name).DeleteIfExistsAsync(cancellationToken: cancellationToken);

    private sealed class TooLongException : IOException;

    /// <summary>Reads through, hashing what passes and failing once more than the bound has come.</summary>
    private sealed class BoundedHashingStream(Stream inner, long maxBytes, IncrementalHash hash) : Stream
    {
        private long _length;

        public override long Length => _length;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            return Counted(buffer.Span[..read]);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Counted(ReadOnlySpan<byte> read)
        {
            _length += read.Length;
            if (_length > maxBytes)
            {
                throw new TooLongException();
            }

            hash.AppendData(read);
            return read.Length;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
