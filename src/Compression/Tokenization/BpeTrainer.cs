// BpeTrainer: learns a Llama 3-style byte-level BPE (merges by pair frequency) from a text corpus.
using System.Text;

namespace Compression.Tokenization;

/// <summary>
/// Trains a Llama 3-style byte-level BPE: text is split with the Llama 3 pre-tokenizer, each distinct
/// pre-token is counted once with its frequency, ids 0–255 are the 256 single bytes (id = byte value),
/// and each step merges the most frequent adjacent pair (ties: smaller left id, then smaller right id,
/// so the result is deterministic). Pair counts are updated incrementally from the words that
/// contain the merged pair only. Special tokens are appended after the learned tokens.
/// </summary>
public static class BpeTrainer
{
    /// <summary>Llama 3.1's first ten special tokens, in its order (BOS, EOS, …, &lt;|eot_id|&gt;).</summary>
    public static IReadOnlyList<string> Llama3SpecialTokens { get; } =
    [
        "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
        "<|finetune_right_pad_id|>", "<|reserved_special_token_2|>", "<|start_header_id|>", "<|end_header_id|>",
        "<|eom_id|>", "<|eot_id|>",
    ];

    /// <summary>
    /// Learns merges from <paramref name="texts"/> until the vocabulary, special tokens included, has
    /// <paramref name="vocabSize"/> entries, or no pair occurs at least <paramref name="minPairCount"/> times
    /// (then the vocabulary is smaller). <paramref name="specialTokens"/> defaults to <see cref="Llama3SpecialTokens"/>;
    /// BOS/EOS are &lt;|begin_of_text|&gt; and &lt;|end_of_text|&gt; when listed.
    /// </summary>
    public static TokenizerData Train(IEnumerable<string> texts, int vocabSize, IReadOnlyList<string>? specialTokens = null, int minPairCount = 2)
    {
        ArgumentNullException.ThrowIfNull(texts);
        specialTokens ??= Llama3SpecialTokens;
        if (specialTokens.Distinct(StringComparer.Ordinal).Count() != specialTokens.Count || specialTokens.Any(string.IsNullOrEmpty))
            throw new ArgumentException("Special tokens must be distinct and non-empty.", nameof(specialTokens));
        int ordinaryTarget = vocabSize - specialTokens.Count;
        if (ordinaryTarget < 256)
            throw new ArgumentOutOfRangeException(nameof(vocabSize), vocabSize, $"Must be at least 256 byte tokens + {specialTokens.Count} special tokens.");
        ArgumentOutOfRangeException.ThrowIfLessThan(minPairCount, 1);

        var state = new MergeState(CountPreTokens(texts));
        state.Run(ordinaryTarget, minPairCount);

        var tokens = new List<string>(state.Tokens);
        var types = Enumerable.Repeat(TokenType.Normal, tokens.Count).ToList();
        var ordinary = new HashSet<string>(tokens, StringComparer.Ordinal);
        foreach (string special in specialTokens)
        {
            if (ordinary.Contains(special)) throw new ArgumentException($"Special token '{special}' is also a learned token.", nameof(specialTokens));
            tokens.Add(special);
            types.Add(TokenType.Control);
        }
        int? IdOf(string name) => tokens.IndexOf(name) is int i and >= 0 ? i : null;
        return new TokenizerData
        {
            Tokens = tokens,
            TokenTypes = types,
            Merges = state.Merges,
            BosId = IdOf("<|begin_of_text|>"),
            EosId = IdOf("<|end_of_text|>"),
            AddBos = true,
            IgnoreMerges = true,
        };
    }

    /// <summary>Trains on a UTF-8 text file, read in chunks cut only where the pre-tokenizer would cut anyway.</summary>
    public static TokenizerData TrainFile(string corpusPath, int vocabSize, IReadOnlyList<string>? specialTokens = null, int minPairCount = 2) =>
        Train(ReadChunks(corpusPath), vocabSize, specialTokens, minPairCount);

    private static Dictionary<string, long> CountPreTokens(IEnumerable<string> texts)
    {
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        var lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();
        var pieces = new List<(int Offset, int Length)>();
        foreach (string text in texts)
        {
            if (string.IsNullOrEmpty(text)) continue;
            pieces.Clear();
            Llama3PreTokenizer.Split(text, pieces);
            foreach ((int offset, int length) in pieces)
            {
                ReadOnlySpan<char> piece = text.AsSpan(offset, length);
                lookup[piece] = lookup.TryGetValue(piece, out long c) ? c + 1 : 1;
            }
        }
        return counts;
    }

    /// <summary>
    /// Chunks of about 1 M chars, each ending after a '\n' that is followed by a non-space: the Llama 3
    /// pattern always has a pre-token boundary there, so chunking does not change the counts.
    /// </summary>
    private static IEnumerable<string> ReadChunks(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Corpus file not found: {path}", path);
        using var reader = new StreamReader(path, Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var buffer = new char[1 << 20];
        int filled = 0;
        while (true)
        {
            int read = reader.ReadBlock(buffer, filled, buffer.Length - filled);
            filled += read;
            if (read == 0 || filled < buffer.Length)
            {
                if (filled > 0) yield return new string(buffer, 0, filled);
                yield break;
            }
            int cut = filled - 1;
            while (cut > 0 && !(buffer[cut - 1] == '\n' && !char.IsWhiteSpace(buffer[cut]))) cut--;
            if (cut == 0) cut = filled;  // one enormous line: cut anywhere, the counts move by a pre-token or two
            yield return new string(buffer, 0, cut);
            Array.Copy(buffer, cut, buffer, 0, filled - cut);
            filled -= cut;
        }
    }

    /// <summary>The merge loop: words as id arrays, pair counts, which words hold a pair, and a lazy max-heap.</summary>
    private sealed class MergeState
    {
        private readonly int[][] _words;
        private readonly long[] _freq;
        private readonly Dictionary<long, long> _pairCount = [];
        private readonly Dictionary<long, List<int>> _pairWords = [];
        private readonly PriorityQueue<long, (long Count, int Left, int Right)> _heap = new(HeapOrder.Instance);
        private readonly Dictionary<string, int> _tokenIds = new(StringComparer.Ordinal);
        private readonly int[] _seen;
        private int _stamp;

        public List<string> Tokens { get; } = new(1 << 12);
        public List<string> Merges { get; } = [];

        public MergeState(Dictionary<string, long> preTokens)
        {
            for (int b = 0; b < 256; b++) AddToken(ByteLevel.Char((byte)b).ToString());
            _words = new int[preTokens.Count][];
            _freq = new long[preTokens.Count];
            _seen = new int[preTokens.Count];
            int w = 0;
            foreach (var (text, count) in preTokens)
            {
                byte[] bytes = Encoding.UTF8.GetBytes(text);
                _words[w] = Array.ConvertAll(bytes, x => (int)x);
                _freq[w] = count;
                AddPairs(w, +1);
                w++;
            }
            foreach (var (pair, count) in _pairCount) Push(pair, count);
        }

        public void Run(int targetTokens, int minPairCount)
        {
            while (Tokens.Count < targetTokens && _heap.TryDequeue(out long pair, out var entry))
            {
                long current = _pairCount.GetValueOrDefault(pair);
                if (current != entry.Count)
                {
                    if (current > 0) Push(pair, current);  // stale entry: requeue at its true count
                    continue;
                }
                if (current < minPairCount) break;
                Merge(pair);
            }
        }

        private void Merge(long pair)
        {
            (int left, int right) = Split(pair);
            string merged = Tokens[left] + Tokens[right];
            int id = _tokenIds.TryGetValue(merged, out int existing) ? existing : AddToken(merged);
            Merges.Add(Tokens[left] + " " + Tokens[right]);

            var increased = new HashSet<long>();
            List<int> holders = _pairWords[pair];
            _stamp++;
            foreach (int w in holders)
            {
                if (_seen[w] == _stamp) continue;
                _seen[w] = _stamp;
                int[] word = _words[w];
                if (!Contains(word, left, right)) continue;
                AddPairs(w, -1);
                _words[w] = Replace(word, left, right, id);
                AddPairs(w, +1, id, increased);
            }
            _pairCount.Remove(pair);
            _pairWords.Remove(pair);
            foreach (long p in increased)
                if (_pairCount.TryGetValue(p, out long c) && c > 0) Push(p, c);
        }

        private void AddPairs(int w, int sign, int newId = -1, HashSet<long>? increased = null)
        {
            int[] word = _words[w];
            long delta = sign * _freq[w];
            for (int i = 0; i + 1 < word.Length; i++)
            {
                long key = Key(word[i], word[i + 1]);
                long c = _pairCount.GetValueOrDefault(key) + delta;
                if (c == 0) _pairCount.Remove(key); else _pairCount[key] = c;
                if (sign > 0 && (newId < 0 || word[i] == newId || word[i + 1] == newId))
                {
                    if (!_pairWords.TryGetValue(key, out var list)) _pairWords[key] = list = [];
                    list.Add(w);
                    increased?.Add(key);
                }
            }
        }

        private int AddToken(string token)
        {
            _tokenIds.Add(token, Tokens.Count);
            Tokens.Add(token);
            return Tokens.Count - 1;
        }

        private void Push(long pair, long count)
        {
            (int l, int r) = Split(pair);
            _heap.Enqueue(pair, (count, l, r));
        }

        private static bool Contains(int[] word, int left, int right)
        {
            for (int i = 0; i + 1 < word.Length; i++)
                if (word[i] == left && word[i + 1] == right) return true;
            return false;
        }

        /// <summary>Non-overlapping left-to-right replacement, as applying the merge at encode time does.</summary>
        private static int[] Replace(int[] word, int left, int right, int id)
        {
            var result = new List<int>(word.Length);
            for (int i = 0; i < word.Length; i++)
            {
                if (i + 1 < word.Length && word[i] == left && word[i + 1] == right) { result.Add(id); i++; }
                else result.Add(word[i]);
            }
            return [.. result];
        }

        private static long Key(int left, int right) => ((long)left << 32) | (uint)right;
        private static (int, int) Split(long key) => ((int)(key >> 32), (int)key);
    }

    /// <summary>Max count first; ties to the smaller left id, then the smaller right id.</summary>
    private sealed class HeapOrder : IComparer<(long Count, int Left, int Right)>
    {
        public static readonly HeapOrder Instance = new();
        public int Compare((long Count, int Left, int Right) x, (long Count, int Left, int Right) y)
        {
            int c = y.Count.CompareTo(x.Count);
            if (c != 0) return c;
            c = x.Left.CompareTo(y.Left);
            return c != 0 ? c : x.Right.CompareTo(y.Right);
        }
    }
}
