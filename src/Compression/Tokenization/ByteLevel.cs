// ByteLevel: GPT-2's reversible byte ↔ printable-character spelling that byte-level BPE vocabularies use.
using System.Text;

namespace Compression.Tokenization;

/// <summary>
/// GPT-2's <c>bytes_to_unicode</c> table: every byte maps to one printable character (printable Latin-1
/// bytes map to themselves, the rest to U+0100 onwards), so a token's bytes can be written as a string.
/// </summary>
public static class ByteLevel
{
    private static readonly char[] ByteToChar = BuildByteToChar();
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte(ByteToChar);

    private static char[] BuildByteToChar()
    {
        var map = new char[256];
        var direct = new bool[256];
        for (int b = '!'; b <= '~'; b++) direct[b] = true;
        for (int b = 0xA1; b <= 0xAC; b++) direct[b] = true;
        for (int b = 0xAE; b <= 0xFF; b++) direct[b] = true;
        int next = 256;
        for (int b = 0; b < 256; b++) map[b] = direct[b] ? (char)b : (char)next++;
        return map;
    }

    private static Dictionary<char, byte> BuildCharToByte(char[] byteToChar)
    {
        var map = new Dictionary<char, byte>(256);
        for (int b = 0; b < 256; b++) map[byteToChar[b]] = (byte)b;
        return map;
    }

    /// <summary>The character that spells byte <paramref name="b"/>.</summary>
    public static char Char(byte b) => ByteToChar[b];

    /// <summary>Spells bytes as a byte-level string (one character per byte).</summary>
    public static string Encode(ReadOnlySpan<byte> bytes)
    {
        return string.Create(bytes.Length, bytes.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++) dst[i] = ByteToChar[src[i]];
        });
    }

    /// <summary>Spells the UTF-8 bytes of <paramref name="text"/> as a byte-level string.</summary>
    public static string EncodeText(ReadOnlySpan<char> text)
    {
        int n = Encoding.UTF8.GetByteCount(text);
        Span<byte> buffer = n <= 256 ? stackalloc byte[n] : new byte[n];
        Encoding.UTF8.GetBytes(text, buffer);
        return Encode(buffer);
    }

    /// <summary>
    /// Appends the bytes a byte-level string spells to <paramref name="destination"/>; false (nothing
    /// appended) when some character is not in the table, i.e. the string is not byte-level.
    /// </summary>
    public static bool TryDecode(string spelled, List<byte> destination)
    {
        foreach (char c in spelled)
            if (!CharToByte.ContainsKey(c)) return false;
        foreach (char c in spelled) destination.Add(CharToByte[c]);
        return true;
    }

    /// <summary>The bytes a byte-level string spells, or null when it is not byte-level.</summary>
    public static byte[]? TryDecode(string spelled)
    {
        var bytes = new List<byte>(spelled.Length);
        return TryDecode(spelled, bytes) ? bytes.ToArray() : null;
    }
}
