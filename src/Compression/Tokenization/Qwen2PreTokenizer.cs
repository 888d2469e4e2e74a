// Qwen2PreTokenizer: Qwen2/Qwen3's pre-tokenizer — Llama 3's regex with one digit per pre-token, on code points.
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Compression.Tokenization;

/// <summary>
/// Qwen2's pre-tokenizer, <see cref="Pattern"/> (Qwen3 and Bonsai use it too; llama.cpp's "qwen2"). It differs from
/// Llama 3's only in <c>\p{N}</c> where Llama 3 has <c>\p{N}{1,3}</c>, so it shares <see cref="Llama3PreTokenizer"/>'s
/// code-point splitter (same reason as there for not using <see cref="RegexPreTokenizer"/>: surrogate pairs).
/// </summary>
public sealed class Qwen2PreTokenizer : PreTokenizer
{
    /// <summary>The Qwen2 pre-tokenizer regex, as in its tokenizer.json's <c>Split</c> pre-tokenizer.</summary>
    public const string Pattern =
        @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    /// <summary>The shared instance (the splitter has no state).</summary>
    public static Qwen2PreTokenizer Instance { get; } = new();

    /// <summary>The pattern as a compiled .NET regex (reference for tests; differs outside the BMP, see <see cref="Llama3PreTokenizer"/>).</summary>
    public static Regex CreateRegex() => new(Pattern, RegexOptions.Compiled | RegexOptions.CultureInvariant);

    /// <summary>Appends the (offset, length) in chars of every pre-token of <paramref name="text"/>, in order.</summary>
    public static void Split(ReadOnlySpan<char> text, List<(int Offset, int Length)> destination) =>
        Llama3PreTokenizer.Split(text, destination, maxDigits: 1);

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    /// <inheritdoc/>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int, int)>();
        Split(text, pieces);
        return pieces;
    }
}
