// SpecialTokenMatcher: finds the next special-token string in text (longest match wins), as llama.cpp partitions.
using System.Buffers;

namespace Compression.Tokenization;

/// <summary>Finds occurrences of a fixed set of special-token strings, leftmost first, longest at a position.</summary>
internal sealed class SpecialTokenMatcher
{
    private readonly SearchValues<char>? _firstChars;
    private readonly Dictionary<char, (string Text, int Id)[]> _byFirstChar;

    public SpecialTokenMatcher(IEnumerable<(string Text, int Id)> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Text.Length > 0)
            .GroupBy(t => t.Text[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Text.Length).ThenBy(t => t.Id).ToArray());
        if (_byFirstChar.Count > 0) _firstChars = SearchValues.Create([.. _byFirstChar.Keys]);
    }

    /// <summary>
    /// The first special token at or after <paramref name="start"/>: its position, length and id;
    /// (text.Length, 0, -1) when there is none.
    /// </summary>
    public (int At, int Length, int Id) FindNext(string text, int start)
    {
        if (_firstChars is null) return (text.Length, 0, -1);
        int pos = start;
        while (pos < text.Length)
        {
            int rel = text.AsSpan(pos).IndexOfAny(_firstChars);
            if (rel < 0) break;
            pos += rel;
            foreach ((string token, int id) in _byFirstChar[text[pos]])
                if (text.AsSpan(pos).StartsWith(token, StringComparison.Ordinal)) return (pos, token.Length, id);
            pos++;
        }
        return (text.Length, 0, -1);
    }
}
