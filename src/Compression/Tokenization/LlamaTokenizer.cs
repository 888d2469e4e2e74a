// LlamaTokenizer: Llama 3 byte-level BPE encode/decode over a TokenizerData, reproducing llama.cpp's ids.
using System.Collections.Concurrent;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Compression.Tokenization;

/// <summary>
/// Llama 3's tokenizer: special-token partitioning, the Llama 3 pre-tokenizer
/// (<see cref="Llama3PreTokenizer"/>), then byte-level BPE per pre-token with merges applied by rank.
/// Produces llama.cpp's ids (<c>llama_tokenize</c> with the "llama-bpe" pre-tokenizer).
/// </summary>
/// <remarks>
/// What Microsoft.ML.Tokenizers does here: its <see cref="BpeTokenizer"/> (ByteLevel = true) does the
/// byte-level BPE of one pre-token — UTF-8 bytes to GPT-2 characters, then merges by merges-list rank
/// (checked: not by token id). What it does not do, filled in by this class:
/// (1) <c>ignore_merges</c> — it always runs the merges, so a pre-token that is itself a vocabulary
/// entry but that the merges would split differently comes out wrong; we look the whole pre-token up
/// first (<see cref="EncodePiece"/>). (2) Special tokens as plain text unless asked, llama.cpp-style
/// (user-defined tokens always matched, control tokens only with <c>parseSpecial</c>), and BOS from
/// the data's settings. (3) Pre-tokenization on code points (see <see cref="Llama3PreTokenizer"/>).
/// (4) Decoding with skipped specials and streaming of partial UTF-8 (<see cref="StreamingDecoder"/>).
/// Its per-word cache only keeps words up to 15 chars, so this class keeps its own pre-token cache.
/// Its <see cref="TiktokenTokenizer"/> is not used: it ranks merges by token id (tiktoken's mergeable
/// ranks) and may join any two adjacent parts whose concatenation is a token, not only listed merges,
/// so it matches only vocabularies whose ids follow merge order.
/// </remarks>
public sealed class LlamaTokenizer
{
    private const int MaxCacheEntries = 1 << 18;
    private static readonly string[] EndOfGenerationNames =
        ["<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|endoftext|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<EOT>"];

    private readonly BpeTokenizer _bpe;
    private readonly Dictionary<string, int> _byteLevelVocab;   // ordinary tokens, byte-level spelling → id
    private readonly byte[][] _tokenBytes;                      // id → the bytes it decodes to
    private readonly bool[] _isSpecial;                         // Control / UserDefined
    private readonly HashSet<int> _endOfGeneration = [];
    private readonly SpecialTokenMatcher _controlAndUser;       // used when parseSpecial
    private readonly SpecialTokenMatcher _userOnly;             // always used
    private readonly ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    /// <summary>Builds the tokenizer; <paramref name="data"/> must hold all 256 single-byte tokens.</summary>
    /// <exception cref="ArgumentException">The vocabulary is inconsistent (see message).</exception>
    public LlamaTokenizer(TokenizerData data)
    {
        ArgumentNullException.ThrowIfNull(data);
        Data = data;
        int n = data.Tokens.Count;
        if (data.TokenTypes.Count != n)
            throw new ArgumentException($"TokenTypes has {data.TokenTypes.Count} entries for {n} tokens.", nameof(data));
        if (data.BosId is int b && (b < 0 || b >= n)) throw new ArgumentException($"BOS id {b} is outside the vocabulary of {n}.", nameof(data));
        if (data.EosId is int e && (e < 0 || e >= n)) throw new ArgumentException($"EOS id {e} is outside the vocabulary of {n}.", nameof(data));

        _byteLevelVocab = new Dictionary<string, int>(n, StringComparer.Ordinal);
        _tokenBytes = new byte[n][];
        _isSpecial = new bool[n];
        var control = new List<(string, int)>();
        var user = new List<(string, int)>();
        for (int id = 0; id < n; id++)
        {
            string token = data.Tokens[id];
            TokenType type = data.TokenTypes[id];
            if (type is TokenType.Control or TokenType.UserDefined)
            {
                _isSpecial[id] = true;
                _tokenBytes[id] = Encoding.UTF8.GetBytes(token);
                (type == TokenType.Control ? control : user).Add((token, id));
                if (Array.IndexOf(EndOfGenerationNames, token) >= 0) _endOfGeneration.Add(id);
                continue;
            }
            _tokenBytes[id] = ByteLevel.TryDecode(token)
                ?? throw new ArgumentException($"Token {id} '{token}' is not in byte-level spelling.", nameof(data));
            if (!_byteLevelVocab.TryAdd(token, id))
                throw new ArgumentException($"Token '{token}' appears twice (ids {_byteLevelVocab[token]} and {id}).", nameof(data));
        }
        for (int by = 0; by < 256; by++)
            if (!_byteLevelVocab.ContainsKey(ByteLevel.Char((byte)by).ToString()))
                throw new ArgumentException($"The vocabulary has no token for byte 0x{by:X2}.", nameof(data));
        if (data.EosId is int eos) _endOfGeneration.Add(eos);
        _controlAndUser = new SpecialTokenMatcher([.. control, .. user]);
        _userOnly = new SpecialTokenMatcher(user);

        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(_byteLevelVocab)
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

    /// <summary>The vocabulary this tokenizer was built from.</summary>
    public TokenizerData Data { get; }

    /// <summary>Number of token ids (ordinary and special).</summary>
    public int VocabSize => _tokenBytes.Length;

    /// <summary>Beginning-of-text id, when the vocabulary has one.</summary>
    public int? BosId => Data.BosId;

    /// <summary>End-of-text id, when the vocabulary has one.</summary>
    public int? EosId => Data.EosId;

    /// <summary>True for EOS and the other special tokens that end a turn (e.g. &lt;|eot_id|&gt;, &lt;|eom_id|&gt;), as llama.cpp's EOG set.</summary>
    public bool IsEndOfGeneration(int id) => _endOfGeneration.Contains(id);

    /// <summary>True for control and user-defined (added) tokens.</summary>
    public bool IsSpecial(int id) => (uint)id < (uint)_isSpecial.Length && _isSpecial[id];

    /// <summary>The token's vocabulary entry as written in tokenizer.json / GGUF (byte-level spelling, e.g. "Ġthe"; special tokens verbatim).</summary>
    public string TokenText(int id) => Data.Tokens[CheckId(id)];

    /// <summary>The bytes the token decodes to (the UTF-8 of its text for special tokens).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _tokenBytes[CheckId(id)];

    /// <summary>
    /// Encodes <paramref name="text"/> to ids. <paramref name="addBos"/> null follows <see cref="TokenizerData.AddBos"/>
    /// (BOS is only ever added when the vocabulary has one).
    /// Special-token strings (e.g. "&lt;|eot_id|&gt;") inside the text are ordinary text unless
    /// <paramref name="parseSpecial"/> is true; user-defined added tokens always match, as in llama.cpp.
    /// </summary>
    public int[] Encode(string text, bool? addBos = null, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 2);
        if ((addBos ?? Data.AddBos) && BosId is int bos) ids.Add(bos);
        var pieces = new List<(int Offset, int Length)>();
        SpecialTokenMatcher matcher = parseSpecial ? _controlAndUser : _userOnly;
        int pos = 0;
        while (pos < text.Length)
        {
            (int at, int length, int id) = matcher.FindNext(text, pos);
            EncodeOrdinary(text.AsSpan(pos, at - pos), ids, pieces);
            if (length == 0) break;
            ids.Add(id);
            pos = at + length;
        }
        return [.. ids];
    }

    private void EncodeOrdinary(ReadOnlySpan<char> text, List<int> ids, List<(int Offset, int Length)> pieces)
    {
        if (text.IsEmpty) return;
        pieces.Clear();
        Llama3PreTokenizer.Split(text, pieces);
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
        if (Data.IgnoreMerges && _byteLevelVocab.TryGetValue(ByteLevel.EncodeText(piece), out int whole)) return [whole];
        return [.. _bpe.EncodeToIds(piece, considerPreTokenization: false, considerNormalization: false)];
    }

    /// <summary>
    /// Decodes ids to text; invalid UTF-8 (e.g. a cut multi-byte character) becomes U+FFFD.
    /// <paramref name="skipSpecial"/> leaves out control and user-defined tokens.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (int id in ids) AppendBytes(id, skipSpecial, bytes);
        return Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes));
    }

    /// <summary>A decoder that takes ids one at a time and returns only complete characters.</summary>
    public StreamingDecoder CreateStreamingDecoder(bool skipSpecial = false) => new(this, skipSpecial);

    internal void AppendBytes(int id, bool skipSpecial, List<byte> destination)
    {
        CheckId(id);
        if (skipSpecial && _isSpecial[id]) return;
        destination.AddRange(_tokenBytes[id]);
    }

    private int CheckId(int id) =>
        (uint)id < (uint)_tokenBytes.Length ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id outside the vocabulary of {_tokenBytes.Length}.");

    /// <summary>Hands BpeTokenizer the whole pre-token (its default would split it again on words).</summary>
    private sealed class WholeText : PreTokenizer
    {
        public static readonly WholeText Instance = new();
        public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => string.IsNullOrEmpty(text) ? [] : [(0, text.Length)];
        public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => text.IsEmpty ? [] : [(0, text.Length)];
    }
}
