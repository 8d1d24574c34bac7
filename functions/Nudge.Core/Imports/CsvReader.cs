using System.Text;

namespace Nudge.Core.Imports;

/// <summary>One CSV record: the line it starts on (the header is line 1), its fields, or why it cannot be read.</summary>
public sealed record CsvRecord(long Line, IReadOnlyList<string> Fields, string? Error = null);

/// <summary>
/// Reads RFC 4180 CSV (UTF-8, optional BOM, quoted fields with doubled quotes and line breaks, CRLF or LF) from a
/// byte offset, and says after each record where the next one starts — the byte offset and line an interrupted import
/// resumes from. Bounded: a record of more than <see cref="MaxFields"/> fields or <see cref="MaxRecordBytes"/> bytes
/// is read to its end and reported as an error, never held whole. Blank lines are skipped.
/// </summary>
public sealed class CsvReader(Stream stream, long offset = 0, long line = 1)
{
    public const int MaxFields = 64;
    public const int MaxRecordBytes = 16 * 1024;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly List<byte> _field = new(256);
    private int _position;
    private int _length;
    private long _consumed = offset;
    private bool _atStart = offset == 0;

    /// <summary>The byte offset just after the last record read: where a resumed read starts.</summary>
    public long Offset { get; private set; } = offset;

    /// <summary>The line the next record starts on.</summary>
    public long Line { get; private set; } = line;

    /// <summary>The next record, or null at the end of the stream.</summary>
    public async ValueTask<CsvRecord?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var record = await ReadRecordAsync(cancellationToken);
            if (record is null || record.Error is not null || record.Fields.Count > 1 || record.Fields[0].Length > 0)
            {
                return record;
            }
        }
    }

    private async ValueTask<CsvRecord?> ReadRecordAsync(CancellationToken cancellationToken)
    {
        if (_atStart)
        {
            _atStart = false;
            if (await FillAsync(cancellationToken) && _length - _position >= 3 && _buffer[_position] == 0xEF && _buffer[_position + 1] == 0xBB && _buffer[_position + 2] == 0xBF)
            {
                _position += 3;
                _consumed += 3;
            }
        }

        if (_position >= _length && !await FillAsync(cancellationToken))
        {
            return null;
        }

        var startLine = Line;
        var fields = new List<string>();
        _field.Clear();
        string? error = null;
        var recordBytes = 0;
        var inQuotes = false;
        var quoteJustClosed = false;
        var fieldStart = true;
        while (true)
        {
            if (_position >= _length && !await FillAsync(cancellationToken))
            {
                if (inQuotes)
                {
                    error ??= "a quoted field is not closed before the end of the file";
                }

                EndField(fields, ref error);
                Offset = _consumed;
                return new CsvRecord(startLine, fields, error);
            }

            var b = _buffer[_position++];
            _consumed++;
            recordBytes++;
            if (recordBytes > MaxRecordBytes)
            {
                error ??= $"the record is longer than {MaxRecordBytes} bytes";
            }

            if (inQuotes)
            {
                if (b == (byte)'"')
                {
                    inQuotes = false;
                    quoteJustClosed = true;
                }
                else
                {
                    if (b == (byte)'\n')
                    {
                        Line++;
                    }

                    Append(b, error);
                }

                continue;
            }

            switch (b)
            {
                case (byte)'"' when quoteJustClosed:
                    Append(b, error); // a doubled quote inside a quoted field
                    inQuotes = true;
                    quoteJustClosed = false;
                    break;
                case (byte)'"' when fieldStart:
                    inQuotes = true;
                    fieldStart = false;
                    break;
                case (byte)',':
                    EndField(fields, ref error);
                    fieldStart = true;
                    quoteJustClosed = false;
                    break;
                case (byte)'\r' or (byte)'\n':
                    if (b == (byte)'\r' && await PeekAsync(cancellationToken) == '\n')
                    {
                        _position++;
                        _consumed++;
                    }

                    Line++;
                    EndField(fields, ref error);
                    Offset = _consumed;
                    return new CsvRecord(startLine, fields, error);
                default:
                    if (quoteJustClosed)
                    {
                        error ??= "text after a closing quote";
                    }

                    Append(b, error);
                    fieldStart = false;
                    break;
            }
        }
    }

    private void Append(byte b, string? error)
    {
        if (error is null)
        {
            _field.Add(b);
        }
    }

    private void EndField(List<string> fields, ref string? error)
    {
        if (fields.Count >= MaxFields)
        {
            error ??= $"more than {MaxFields} fields";
        }
        else if (error is null)
        {
            fields.Add(Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_field)));
        }

        _field.Clear();
    }

    private async ValueTask<int> PeekAsync(CancellationToken cancellationToken) =>
        _position < _length || await FillAsync(cancellationToken) ? _buffer[_position] : -1;

    /// <summary>Reads more into an emptied buffer; false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(CancellationToken cancellationToken)
    {
        if (_position < _length)
        {
            return true;
        }

        _position = 0;
        _length = await stream.ReadAsync(_buffer, cancellationToken);
        return _length > 0;
    }
}
