// SentencePieceMerges: converts a SentencePiece vocabulary's pair ranking between GGUF's scores and tokenizer.json's merges.
namespace Compression.Tokenization;

/// <summary>
/// GGUF ranks SentencePiece pairs by the merged token's score (llama.cpp), tokenizer.json by an explicit merges list
/// (Hugging Face). These derive one from the other so a vocabulary can be written in the format it was not read from.
/// </summary>
public static class SentencePieceMerges
{
    /// <summary>
    /// Merges as Hugging Face's converter derives them from a SentencePiece model (transformers'
    /// <c>SentencePieceExtractor.extract</c>): every split of every normal token into two vocabulary entries,
    /// splits of one token ordered by (left id, right id), tokens by score, highest first (stable: id order on ties).
    /// </summary>
    public static List<string> FromScores(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var scores = data.Scores ?? throw new ArgumentException("the vocabulary has no scores to derive merges from", nameof(data));
        var ids = new Dictionary<string, int>(data.Tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < data.Tokens.Count; i++) ids.TryAdd(data.Tokens[i], i);
        var merges = new List<(string Merge, float Score, int Id, int Left, int Right)>();
        for (int id = 0; id < data.Tokens.Count; id++)
        {
            if (data.TokenTypes[id] != TokenType.Normal) continue;
            string t = data.Tokens[id];
            for (int i = 1; i < t.Length; i++)
            {
                if (char.IsLowSurrogate(t[i])) continue; // split between code points only
                if (ids.TryGetValue(t[..i], out int l) && ids.TryGetValue(t[i..], out int r))
                    merges.Add((t[..i] + " " + t[i..], scores[id], id, l, r));
            }
        }
        return [.. merges.OrderByDescending(m => m.Score).ThenBy(m => m.Id).ThenBy(m => m.Left).ThenBy(m => m.Right).Select(m => m.Merge)];
    }

    /// <summary>
    /// Scores that make llama.cpp's score ranking follow the merges list: the token a merge of rank r forms first
    /// scores −r; tokens no merge forms (single characters, bytes, specials) score below every merge.
    /// Pairs that form the same token tie in llama.cpp (the leftmost wins) where the list ranks them apart.
    /// </summary>
    public static float[] ScoresFromMerges(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        var ids = new Dictionary<string, int>(data.Tokens.Count, StringComparer.Ordinal);
        for (int i = 0; i < data.Tokens.Count; i++) ids.TryAdd(data.Tokens[i], i);
        var scores = new float[data.Tokens.Count];
        Array.Fill(scores, -(float)(data.Merges.Count + 1));
        var seen = new bool[data.Tokens.Count];
        for (int rank = 0; rank < data.Merges.Count; rank++)
        {
            string merged = data.Merges[rank].Replace(" ", "");
            if (ids.TryGetValue(merged, out int id) && !seen[id]) { seen[id] = true; scores[id] = -rank; }
        }
        return scores;
    }
}
