// Llama3PreTokenizer: splits text into pre-tokens exactly as Llama 3's regex does, code point by code point.
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Compression.Tokenization;

/// <summary>
/// Llama 3's pre-tokenizer, <see cref="Pattern"/>, written out by hand the way llama.cpp does
/// (<c>unicode_regex_split_custom_llama3</c>). Why not <see cref="RegexPreTokenizer"/> with that
/// pattern: .NET's <c>\p{L}</c>/<c>\p{N}</c> test UTF-16 code units, so a letter outside the BMP
/// (e.g. CJK Extension B, mathematical alphanumerics) is seen as two non-letter surrogates and split
/// differently from llama.cpp and Hugging Face, which test code points. This class tests code points
/// (<see cref="Rune"/>), and is several times faster than the backtracking regex. On BMP text it
/// agrees with the regex (a test checks this).
/// </summary>
public sealed class Llama3PreTokenizer : PreTokenizer
{
    /// <summary>The Llama 3 pre-tokenizer regex, as in tokenizer.json's <c>Split</c> pre-tokenizer.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The shared instance (the splitter has no state).</summary>
    public static Llama3PreTokenizer Instance { get; } = new();

    /// <summary>The pattern as a compiled .NET regex (reference for tests; differs outside the BMP, see the class remarks).</summary>
    public static Regex CreateRegex() => new(Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        if (string.IsNullOrEmpty(text)) return [];
        var pieces = new List<(int, int)>();
        Split(text, pieces);
        return pieces;
    }

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>();
        Split(text, pieces);
        return pieces;
    }

    [Flags]
    private enum Cls : byte { None = 0, Letter = 1, Number = 2, Space = 4, CrLf = 8, Other = 16 }

    /// <summary>Appends the (offset, length) in chars of every pre-token of <paramref name="text"/>, in order.</summary>
    public static void Split(ReadOnlySpan<char> text, List<(int Offset, int Length)> destination) => Split(text, destination, maxDigits: 3);

    /// <summary>
    /// The Llama 3 pattern with <c>\p{N}{1,maxDigits}</c> for its digit alternative; Qwen2's pattern is the
    /// same with single digits (<see cref="Qwen2PreTokenizer"/>).
    /// </summary>
    internal static void Split(ReadOnlySpan<char> text, List<(int Offset, int Length)> destination, int maxDigits)
    {
        // Decode once into code points; offsets[i] is the char offset of code point i (offsets[n] = text.Length).
        int n = 0;
        var classes = new Cls[text.Length];
        var lowered = new char[text.Length];
        var offsets = new int[text.Length + 1];
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text[i..], out Rune r, out int used);
            offsets[n] = i;
            classes[n] = Classify(r);
            lowered[n] = r.Value is >= 'A' and <= 'Z' ? (char)(r.Value | 0x20) : r.IsBmp ? (char)r.Value : '\0';
            n++;
            i += used;
        }
        offsets[n] = text.Length;

        Cls At(int p) => p < n ? classes[p] : Cls.None;
        int start = 0;
        void Emit(int end)
        {
            destination.Add((offsets[start], offsets[end] - offsets[start]));
            start = end;
        }

        int pos = 0;
        while (pos < n)
        {
            Cls c = classes[pos];
            // (?i:'s|'t|'re|'ve|'m|'ll|'d)
            if (lowered[pos] == '\'' && pos + 1 < n)
            {
                char a = lowered[pos + 1];
                if (a is 's' or 't' or 'm' or 'd') { pos += 2; Emit(pos); continue; }
                if (pos + 2 < n)
                {
                    char b = lowered[pos + 2];
                    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) { pos += 3; Emit(pos); continue; }
                }
            }
            // [^\r\n\p{L}\p{N}]?\p{L}+
            if ((c & (Cls.CrLf | Cls.Number)) == 0 && (c == Cls.Letter || At(pos + 1) == Cls.Letter))
            {
                pos++;
                while (At(pos) == Cls.Letter) pos++;
                Emit(pos);
                continue;
            }
            // \p{N}{1,3} (Qwen2: \p{N})
            if (c == Cls.Number)
            {
                int ini = pos;
                while (At(pos) == Cls.Number && pos - ini < maxDigits) pos++;
                Emit(pos);
                continue;
            }
            // " ?[^\s\p{L}\p{N}]+[\r\n]*"
            int p2 = lowered[pos] == ' ' ? pos + 1 : pos;
            if (At(p2) == Cls.Other)
            {
                pos = p2;
                while (At(pos) == Cls.Other) pos++;
                while (At(pos) == (Cls.Space | Cls.CrLf)) pos++;
                Emit(pos);
                continue;
            }
            // Whitespace run: \s*[\r\n]+ (ends after its last \r or \n), else \s+(?!\S), else \s+.
            int spaces = 0, lastCrLfEnd = 0;
            while ((At(pos + spaces) & Cls.Space) != 0)
            {
                if ((classes[pos + spaces] & Cls.CrLf) != 0) lastCrLfEnd = pos + spaces + 1;
                spaces++;
            }
            if (lastCrLfEnd > 0) { pos = lastCrLfEnd; Emit(pos); continue; }
            if (spaces > 1 && pos + spaces < n) { pos += spaces - 1; Emit(pos); continue; }
            if (spaces > 0) { pos += spaces; Emit(pos); continue; }
            pos++;  // unreachable for valid classes; keeps the loop total
            Emit(pos);
        }
    }

    private static Cls Classify(Rune r)
    {
        if (r.Value is '\r' or '\n') return Cls.Space | Cls.CrLf;
        if (Rune.IsWhiteSpace(r)) return Cls.Space;
        if (Rune.IsLetter(r)) return Cls.Letter;
        return Rune.GetUnicodeCategory(r) switch
        {
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => Cls.Number,
            _ => Cls.Other,
        };
    }
}
