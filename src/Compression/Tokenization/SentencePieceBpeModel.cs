// SentencePieceBpeModel: SentencePiece-style BPE of ordinary text (Llama 2, Mistral) — "▁" escaping, pair merging by
// score (GGUF) or by merge rank (tokenizer.json), <0xNN> byte fallback; reproduces llama.cpp's llm_tokenizer_spm.
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Compression.Tokenization;

/// <summary>
/// The <see cref="TokenizerKind.SentencePieceBpe"/> model. The text (with a leading space at the start and after
/// each special token when <see cref="TokenizerData.AddSpacePrefix"/>) has its spaces replaced by "▁" and is cut
/// into code points; then, repeatedly, the best adjacent pair whose concatenation is a token is merged (ties: the
/// leftmost); a final symbol that is not a token comes out as its UTF-8 bytes' &lt;0xNN&gt; tokens.
/// "Best": with <see cref="TokenizerData.Scores"/> (GGUF), the pair whose merged token has the highest score,
/// as llama.cpp's <c>llm_tokenizer_spm_session</c> does; with <see cref="TokenizerData.Merges"/> (tokenizer.json),
/// the listed pair of lowest rank, as Hugging Face's BPE model does.
/// </summary>
/// <remarks>
/// Why not Microsoft.ML.Tokenizers' <see cref="Microsoft.ML.Tokenizers.LlamaTokenizer"/> (a <see cref="SentencePieceTokenizer"/>): it is built
/// only from a serialized SentencePiece <c>ModelProto</c> (a tokenizer.model file), which neither GGUF nor
/// tokenizer.json carries, and its merge loop follows SentencePiece's, which skips unused pieces and would need
/// the model's normalizer spec, where llama.cpp merges into any vocabulary entry. The algorithm is small (one
/// priority queue), so it is written out here against llama.cpp's, and tested id for id against llama.cpp.
/// </remarks>
internal sealed class SentencePieceBpeModel : ITokenModel
{
    /// <summary>SentencePiece's escaped space, U+2581.</summary>
    public const char Space = '\u2581';

    private readonly Dictionary<string, int> _vocab = new(StringComparer.Ordinal); // every token text → id, as llama.cpp's token_to_id
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    private readonly float[]? _scores;                                               // score mode (GGUF)
    private readonly Dictionary<string, int>? _ranks;                                // rank mode (tokenizer.json): "left right" → rank
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _rankLookup;
    private readonly int[] _byteIds = new int[256];
    private readonly byte[][] _tokenBytes;
    private readonly bool _addSpacePrefix;

    public SentencePieceBpeModel(TokenizerData data)
    {
        int n = data.Tokens.Count;
        _addSpacePrefix = data.AddSpacePrefix;
        _tokenBytes = new byte[n][];
        for (int id = 0; id < n; id++)
        {
            string token = data.Tokens[id];
            if (!_vocab.TryAdd(token, id))
                throw new ArgumentException($"Token '{token}' appears twice (ids {_vocab[token]} and {id}).", nameof(data));
            TokenType type = data.TokenTypes[id];
            if (LlamaTokenizer.IsSpecialType(type)) continue;
            if (type == TokenType.Byte)
            {
                _tokenBytes[id] = [ParseByteToken(token) ?? throw new ArgumentException($"Token {id} '{token}' has type Byte but is not <0xNN>.", nameof(data))];
                continue;
            }
            _tokenBytes[id] = Encoding.UTF8.GetBytes(token.Replace(Space, ' '));
        }
        _vocabLookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        // llama.cpp's byte_to_token: "<0xNN>", else the byte itself as a one-character token.
        for (int b = 0; b < 256; b++)
        {
            if (_vocab.TryGetValue($"<0x{b:X2}>", out int id) || (b < 0x80 && _vocab.TryGetValue(((char)b).ToString(), out id))) _byteIds[b] = id;
            else throw new ArgumentException($"The vocabulary has no byte-fallback token <0x{b:X2}>.", nameof(data));
        }

        if (data.Merges.Count > 0)
        {
            _ranks = new Dictionary<string, int>(data.Merges.Count, StringComparer.Ordinal);
            for (int rank = 0; rank < data.Merges.Count; rank++)
            {
                string merge = data.Merges[rank];
                int space = merge.IndexOf(' ');
                if (space <= 0 || space == merge.Length - 1 || merge.IndexOf(' ', space + 1) >= 0)
                    throw new ArgumentException($"Merge {rank} \"{merge}\" is not two pieces separated by one space.", nameof(data));
                if (!_vocab.ContainsKey(merge[..space] + merge[(space + 1)..]))
                    throw new ArgumentException($"Merge {rank} \"{merge}\" does not form a vocabulary entry.", nameof(data));
                _ranks.TryAdd(merge, rank); // a repeated merge keeps its first (best) rank, as Hugging Face does
            }
            _rankLookup = _ranks.GetAlternateLookup<ReadOnlySpan<char>>();
        }
        else
        {
            if (data.Scores is { } s && s.Count != n)
                throw new ArgumentException($"Scores has {s.Count} entries for {n} tokens.", nameof(data));
            _scores = data.Scores?.ToArray() ?? new float[n]; // llama.cpp: no scores key means every score is 0
        }
    }

    public bool StripsLeadingSpace => _addSpacePrefix;

    public byte[] TokenBytes(int id) => _tokenBytes[id];

    /// <summary>The byte of a "&lt;0xNN&gt;" token, or null.</summary>
    internal static byte? ParseByteToken(string token) =>
        token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
        && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.AllowHexSpecifier, null, out byte b) ? b : null;

    public void Encode(ReadOnlySpan<char> text, bool atStart, List<int> ids)
    {
        // Escape: optional leading space, then every ' ' → '▁'; lone surrogates become U+FFFD as in UTF-8 conversion.
        var chars = new char[text.Length + 1];
        int len = 0;
        if (_addSpacePrefix && atStart) chars[len++] = Space;
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) { chars[len++] = c; chars[len++] = text[++i]; }
            else if (char.IsSurrogate(c)) chars[len++] = '\uFFFD';
            else chars[len++] = c == ' ' ? Space : c;
        }
        new Session(this, chars.AsSpan(0, len)).Run(ids);
    }

    /// <summary>One run of the merge loop over a text: symbols are code points linked in a list, as in llama.cpp.</summary>
    private ref struct Session
    {
        private readonly SentencePieceBpeModel _m;
        private readonly ReadOnlySpan<char> _text;
        private readonly int[] _start, _len, _prev, _next;
        private readonly PriorityQueue<(int Left, int Right, int Size), (double Key, int Left)> _queue;
        private char[] _scratch;

        public Session(SentencePieceBpeModel model, ReadOnlySpan<char> text)
        {
            _m = model;
            _text = text;
            int n = 0;
            _start = new int[text.Length];
            _len = new int[text.Length];
            for (int i = 0; i < text.Length; n++)
            {
                _start[n] = i;
                _len[n] = char.IsHighSurrogate(text[i]) && i + 1 < text.Length ? 2 : 1;
                i += _len[n];
            }
            _prev = new int[n];
            _next = new int[n];
            for (int i = 0; i < n; i++) { _prev[i] = i - 1; _next[i] = i + 1 < n ? i + 1 : -1; }
            Array.Resize(ref _start, n);
            Array.Resize(ref _len, n);
            _queue = new PriorityQueue<(int, int, int), (double, int)>(Math.Max(n, 1), BestFirst.Instance);
            _scratch = new char[64];
        }

        public void Run(List<int> ids)
        {
            int n = _start.Length;
            if (n == 0) return;
            for (int i = 1; i < n; i++) TryAdd(i - 1, i);
            while (_queue.TryDequeue(out var bigram, out _))
            {
                (int left, int right, int size) = bigram;
                if (_len[left] == 0 || _len[right] == 0 || _len[left] + _len[right] != size) continue; // one side already merged
                _len[left] += _len[right];
                _len[right] = 0;
                _next[left] = _next[right];
                if (_next[right] >= 0) _prev[_next[right]] = left;
                TryAdd(_prev[left], left);
                TryAdd(left, _next[left]);
            }
            Span<byte> utf8 = stackalloc byte[4];
            for (int i = 0; i != -1; i = _next[i])
            {
                ReadOnlySpan<char> symbol = _text.Slice(_start[i], _len[i]);
                if (_m._vocabLookup.TryGetValue(symbol, out int id)) { ids.Add(id); continue; }
                // Only unmerged single code points get here (every merge forms a token): byte fallback.
                int count = Encoding.UTF8.GetBytes(symbol, utf8);
                for (int j = 0; j < count; j++) ids.Add(_m._byteIds[utf8[j]]);
            }
        }

        private void TryAdd(int left, int right)
        {
            if (left < 0 || right < 0) return;
            int size = _len[left] + _len[right];
            ReadOnlySpan<char> pair = _text.Slice(_start[left], size);
            double key;
            if (_m._ranks is null)
            {
                if (!_m._vocabLookup.TryGetValue(pair, out int id)) return;
                key = -_m._scores![id]; // highest score first
            }
            else
            {
                // Listed pairs only, by rank: the key is "left right".
                int need = size + 1;
                if (_scratch.Length < need) _scratch = new char[Math.Max(need, _scratch.Length * 2)];
                _text.Slice(_start[left], _len[left]).CopyTo(_scratch);
                _scratch[_len[left]] = ' ';
                _text.Slice(_start[right], _len[right]).CopyTo(_scratch.AsSpan(_len[left] + 1));
                if (!_m._rankLookup.TryGetValue(_scratch.AsSpan(0, need), out int rank)) return;
                key = rank;
            }
            _queue.Enqueue((left, right, size), (key, left));
        }
    }

    /// <summary>Smaller key first (−score or rank), then the leftmost pair — llama.cpp's and Hugging Face's tie-break.</summary>
    private sealed class BestFirst : IComparer<(double Key, int Left)>
    {
        public static readonly BestFirst Instance = new();
        public int Compare((double Key, int Left) x, (double Key, int Left) y) =>
            x.Key != y.Key ? x.Key.CompareTo(y.Key) : x.Left.CompareTo(y.Left);
    }
}
