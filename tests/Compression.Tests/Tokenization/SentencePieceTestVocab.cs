// SentencePieceTestVocab: trains a small SentencePiece-style BPE vocabulary (Llama 2 layout: <unk> <s> </s>, 256 byte
// tokens, merged pieces by score, then single characters) — an independent vocabulary to compare llama.cpp against.
using System.Text;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

internal static class SentencePieceTestVocab
{
    private const char Space = '\u2581';

    /// <summary>
    /// Learns up to <paramref name="merges"/> merges over "▁"-escaped words (each word starts at a space, as
    /// SentencePiece splits); characters seen fewer than <paramref name="minCharCount"/> times are left out of the
    /// vocabulary so they come out as byte tokens. Pair ties go to the ordinally smaller pair (deterministic).
    /// </summary>
    public static TokenizerData Train(IEnumerable<string> texts, int merges, int minCharCount = 3)
    {
        var words = new Dictionary<string, long>(StringComparer.Ordinal);
        var charCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string text in texts)
        {
            string escaped = (" " + text).Replace(' ', Space);
            int start = 0;
            for (int i = 1; i <= escaped.Length; i++)
            {
                if (i < escaped.Length && escaped[i] != Space) continue;
                string word = escaped[start..i];
                words[word] = words.GetValueOrDefault(word) + 1;
                start = i;
            }
        }
        var segmented = words.Select(w => (Symbols: CodePoints(w.Key), Count: w.Value)).ToList();
        foreach (var (symbols, count) in segmented)
            foreach (string s in symbols) charCounts[s] = charCounts.GetValueOrDefault(s) + count;
        var alphabet = new HashSet<string>(charCounts.Where(c => c.Value >= minCharCount).Select(c => c.Key), StringComparer.Ordinal);

        var learned = new List<string>();
        var known = new HashSet<string>(alphabet, StringComparer.Ordinal);
        for (int step = 0; step < merges; step++)
        {
            var pairs = new Dictionary<(string, string), long>();
            foreach (var (symbols, count) in segmented)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (known.Contains(symbols[i]) && known.Contains(symbols[i + 1]))
                        pairs[(symbols[i], symbols[i + 1])] = pairs.GetValueOrDefault((symbols[i], symbols[i + 1])) + count;
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First();
            if (best.Value < 2) break;
            string merged = best.Key.Item1 + best.Key.Item2;
            if (known.Add(merged)) learned.Add(merged);
            foreach (var (symbols, _) in segmented)
                for (int i = 0; i + 1 < symbols.Count; i++)
                    if (symbols[i] == best.Key.Item1 && symbols[i + 1] == best.Key.Item2) { symbols[i] = merged; symbols.RemoveAt(i + 1); }
        }

        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<TokenType> { TokenType.Unknown, TokenType.Control, TokenType.Control };
        var scores = new List<float> { 0, 0, 0 };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(TokenType.Byte); scores.Add(0); }
        for (int i = 0; i < learned.Count; i++) { tokens.Add(learned[i]); types.Add(TokenType.Normal); scores.Add(-i); }
        int next = learned.Count;
        foreach (string c in alphabet.OrderByDescending(c => charCounts[c]).ThenBy(c => c, StringComparer.Ordinal))
        {
            tokens.Add(c); types.Add(TokenType.Normal); scores.Add(-(next++));
        }
        // Mistral-style control tokens and a user-defined (added, not special) token, matched before the model runs.
        foreach (var (text, type) in new[] { ("[INST]", TokenType.Control), ("[/INST]", TokenType.Control), ("<tool>", TokenType.UserDefined) })
        {
            tokens.Add(text); types.Add(type); scores.Add(0);
        }
        return new TokenizerData
        {
            Kind = TokenizerKind.SentencePieceBpe, Tokens = tokens, TokenTypes = types, Scores = scores, Merges = [],
            BosId = 1, EosId = 2, AddBos = true, AddSpacePrefix = true,
        };
    }

    private static List<string> CodePoints(string s)
    {
        var list = new List<string>(s.Length);
        for (int i = 0; i < s.Length;)
        {
            int n = char.IsHighSurrogate(s[i]) && i + 1 < s.Length ? 2 : 1;
            list.Add(s.Substring(i, n));
            i += n;
        }
        return list;
    }

    /// <summary>Training text: the synthetic corpus plus code, whitespace runs and a little of several scripts.</summary>
    public static IEnumerable<string> TrainingTexts()
    {
        yield return SyntheticCorpus.Make(40_000, seed: 3);
        for (int i = 0; i < 30; i++)
        {
            yield return "    for (int i = 0; i < n; i++) { sum += x[i] * 2; }\n\treturn sum;\n";
            yield return "def f(x):\n    return x ** 2  # square\n\n";
            yield return "Ünder naïve café, Ångström — résumé; Zürich. 時計の針 東京 北京";
            yield return "It's 12:30 and we'll be there in 45 minutes, won't we? I'd say 1999 or 2024.";
        }
    }
}
