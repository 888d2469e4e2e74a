// StreamingDecoder: turns ids arriving one at a time into text, holding back incomplete UTF-8 characters.
using System.Text;

namespace Compression.Tokenization;

/// <summary>
/// Incremental detokenizer for generation. Byte-level tokens can end in the middle of a multi-byte
/// UTF-8 character (an emoji is often two or three tokens); <see cref="Append"/> returns only the
/// characters completed so far and keeps the partial bytes for the next id.
/// </summary>
public sealed class StreamingDecoder
{
    private readonly LlamaTokenizer _tokenizer;
    private readonly bool _skipSpecial;
    private readonly Decoder _utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly List<byte> _bytes = new(16);
    private readonly StringBuilder _text = new();
    private char[] _chars = new char[64];

    /// <summary>Creates a decoder; <paramref name="skipSpecial"/> leaves control and user-defined tokens out.</summary>
    public StreamingDecoder(LlamaTokenizer tokenizer, bool skipSpecial = false)
    {
        _tokenizer = tokenizer ?? throw new ArgumentNullException(nameof(tokenizer));
        _skipSpecial = skipSpecial;
    }

    /// <summary>All text returned so far.</summary>
    public string Text => _text.ToString();

    /// <summary>Adds one id; returns the text it completes (empty while a character is still partial).</summary>
    public string Append(int id)
    {
        _bytes.Clear();
        _tokenizer.AppendBytes(id, _skipSpecial, _bytes);
        return Convert(flush: false);
    }

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush()
    {
        _bytes.Clear();
        return Convert(flush: true);
    }

    private string Convert(bool flush)
    {
        ReadOnlySpan<byte> bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_bytes);
        int needed = _utf8.GetCharCount(bytes, flush: false) + 4;
        if (_chars.Length < needed) _chars = new char[Math.Max(needed, _chars.Length * 2)];
        int count = _utf8.GetChars(bytes, _chars, flush);
        string piece = new(_chars, 0, count);
        _text.Append(piece);
        return piece;
    }
}
