using System.Text;

namespace Nudge.Core.Delivery;

/// <summary>
/// Korean carriers count SMS/LMS length in EUC-KR bytes (code page 51949): ASCII is one byte, a Hangul syllable or
/// another KS X 1001 character two. A character outside that set (an emoji, a rare syllable) cannot be carried.
/// </summary>
public static class EucKr
{
    public const int CodePage = 51949;

    private static readonly Encoding Strict = CreateStrict();

    private static Encoding CreateStrict()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        return Encoding.GetEncoding(CodePage, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
    }

    /// <summary>The EUC-KR byte count, or null if some character cannot be encoded.</summary>
    public static int? ByteCount(string text) => FirstUnencodable(text) is null ? Strict.GetByteCount(text) : null;

    /// <summary>The first character (a whole surrogate pair for an emoji) that EUC-KR cannot carry, or null.</summary>
    public static string? FirstUnencodable(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var length = char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
            var piece = text.Substring(i, length);
            try
            {
                Strict.GetByteCount(piece);
            }
            catch (EncoderFallbackException)
            {
                return piece;
            }

            i += length - 1;
        }

        return null;
    }
}
