// ByteLevelBpeModel: byte-level BPE of ordinary text (Llama 3, Qwen) — pre-tokenizer from the registry, merges by rank.
using System.Collections.Concurrent;
using Microsoft.ML.Tokenizers;

namespace Compression.Tokenization;

/// <summary>
/// The <see cref="TokenizerKind.ByteLevelBpe"/> model: the data's pre-tokenizer (<see cref="PreTokenizers"/>), then
/// byte-level BPE per pre-token with merges applied by rank, as llama.cpp's <c>llm_tokenizer_bpe</c>.
/// </summary>
/// <remarks>
/// What Microsoft.ML.Tokenizers does here: its <see cref="BpeTokenizer"/> (ByteLevel = true) does the
/// byte-level BPE of one pre-token — UTF-8 bytes to GPT-2 characters, then merges by merges-list rank
/// (checked: not by token id). What it does not do, filled in here: <c>ignore_merges</c> — it always runs the
/// merges, so a pre-token that is itself a vocabulary entry but that the merges would split differently comes
/// out wrong; we look the whole pre-token up first (<see cref="EncodePiece"/>); and pre-tokenization on code points
/// (see <see cref="Llama3PreTokenizer"/>). Its per-word cache only keeps words up to 15 chars, so this class keeps
/// its own pre-token cache. Its <see cref="TiktokenTokenizer"/> is not used: it ranks merges by token id
/// (tiktoken's mergeable ranks) and may join any two adjacent parts whose concatenation is a token, not only
/// listed merges, so it matches only vocabularies whose ids follow merge order.
/// </remarks>
internal sealed class ByteLevelBpeModel : ITokenModel
{
    private const int MaxCacheEntries = 1 << 18;

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal);   // ordinary tokens, byte-level spelling → id
    private readonly byte[][] _tokenBytes;
    private readonly bool _ignoreMerges;
    private readonly PreTokenSplitter _split;
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public ByteLevelBpeModel(TokenizerData data)
    {
        _split = (PreTokenizers.Find(data.Pre) ?? throw new ArgumentException($"pre-tokenizer '{data.Pre}' is not supported; supported: {PreTokenizers.SupportedNames}", nameof(data))).Split;
        _ignoreMerges = data.IgnoreMerges;
        int n = data.Tokens.Count;
        _tokenBytes = new byte[n][];
        for (int id = 0; id < n; id++)
        {
            if (LlamaTokenizer.IsSpecialType(data.TokenTypes[id])) continue;
            string token = data.Tokens[id];
            _tokenBytes[id] = ByteLevel.TryDecode(token)
                ?? throw new ArgumentException($"Token {id} '{token}' is not in byte-level spelling.", nameof(data));
            if (!_vocab.TryAdd(token, id))
                throw new ArgumentException($"Token '{token}' appears twice (ids {_vocab[token]} and {id}).", nameof(data));
        }
        for (int by = 0; by < 256; by++)
            if (!_vocab.ContainsKey(ByteLevel.Char((byte)by).ToString()))
                throw new ArgumentException($"The vocabulary has no token for byte 0x{by:X2}.", nameof(data));
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(_vocab)
            {
                Merges = data.Merges,
                ByteLevel = true,
                PreTokenizer = WholeText.Instance,
            });
        }
        catch (InvalidOperationException ex)
        {
            throw new ArgumentException($"The merges are not valid for this vocabulary: {ex.Message}", nameof(data), ex);
        }
    }

    public bool StripsLeadingSpace => false;

    public byte[] TokenBytes(int id) => _tokenBytes[id];

    public void Encode(ReadOnlySpan<char> text, bool atStart, List<int> ids)
    {
        var pieces = new List<(int Offset, int Length)>();
        _split(text, pieces);
        var lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach ((int offset, int length) in pieces)
        {
            ReadOnlySpan<char> piece = text.Slice(offset, length);
            if (!lookup.TryGetValue(piece, out int[]? pieceIds))
            {
                string key = piece.ToString();
                pieceIds = EncodePiece(key);
                if (_cache.Count >= MaxCacheEntries) _cache.Clear();
                _cache[key] = pieceIds;
            }
            ids.AddRange(pieceIds);
        }
    }

    /// <summary>One pre-token: whole if it is a vocabulary entry and ignore_merges is on, else BPE by merge rank.</summary>
    private int[] EncodePiece(string piece)
    {
        if (_ignoreMerges && _vocab.TryGetValue(ByteLevel.EncodeText(piece), out int whole)) return [whole];
        return [.. _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false)];
    }

    /// <summary>Hands BpeTokenizer the whole pre-token (its default would split it again on words).</summary>
    private sealed class WholeText : PreTokenizer
    {
        public static readonly WholeText Instance = new();
        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => string.IsNullOrEmpty(text) ? [] : [(0, text.Length)];
        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => text.IsEmpty ? [] : [(0, text.Length)];
    }
}
