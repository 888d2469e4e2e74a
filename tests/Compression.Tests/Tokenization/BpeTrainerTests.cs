// Tests for BpeTrainer: determinism, round trips and compression of trained tokenizers, agreement with a naive BPE.
using System.Text;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class BpeTrainerTests
{
    private static readonly string Corpus = SyntheticCorpus.Make(300_000);
    private static readonly Lazy<TokenizerData> Trained = new(() => BpeTrainer.Train([Corpus], 1024));

    [Fact]
    public void Training_is_deterministic()
    {
        TokenizerData again = BpeTrainer.Train([Corpus], 1024);
        Assert.True(Trained.Value.ContentEquals(again));
        Assert.True(Trained.Value.Merges.Count > 500);
    }

    [Fact]
    public void Trained_vocabulary_has_bytes_first_and_specials_last()
    {
        TokenizerData d = Trained.Value;
        Assert.Equal(1024, d.Tokens.Count);
        for (int b = 0; b < 256; b++) Assert.Equal(ByteLevel.Char((byte)b).ToString(), d.Tokens[b]);
        int n = BpeTrainer.Llama3SpecialTokens.Count;
        Assert.Equal(BpeTrainer.Llama3SpecialTokens, d.Tokens.Skip(1024 - n));
        Assert.All(d.TokenTypes.Skip(1024 - n), t => Assert.Equal(TokenType.Control, t));
        Assert.Equal(1024 - n, d.BosId);
        Assert.Equal(1024 - n + 1, d.EosId);
        Assert.True(d.IgnoreMerges);
        var tok = new LlamaTokenizer(d);
        Assert.True(tok.IsEndOfGeneration(d.Tokens.ToList().IndexOf("<|eot_id|>")));
    }

    [Fact]
    public void Trained_tokenizer_round_trips_and_compresses()
    {
        var tok = new LlamaTokenizer(Trained.Value);
        int[] ids = tok.Encode(Corpus, addBos: false);
        Assert.Equal(Corpus, tok.Decode(ids));
        int bytes = Encoding.UTF8.GetByteCount(Corpus);
        Assert.True(ids.Length < bytes / 3, $"{ids.Length} tokens for {bytes} bytes");

        const string unseen = "Zebras 🦓 quietly x-ray 42 ÅÄÖ ∑ 漢字\r\n\tend";
        Assert.Equal(unseen, tok.Decode(tok.Encode(unseen), skipSpecial: true));
    }

    [Fact]
    public void Trained_tokenizer_matches_a_naive_rank_ordered_bpe()
    {
        var tok = new LlamaTokenizer(Trained.Value);
        var reference = new NaiveBpe(Trained.Value);
        string text = SyntheticCorpus.Make(20_000, seed: 99) + " unseen wordings: stubbornnesses, watchmakers'll";
        Assert.Equal(reference.Encode(text), tok.Encode(text, addBos: false));
    }

    [Fact]
    public void Each_merge_is_the_most_frequent_pair_at_its_step()
    {
        // Replays training naively: words as token strings, all pair counts recounted from scratch each step.
        string text = SyntheticCorpus.Make(40_000, seed: 21);
        TokenizerData d = BpeTrainer.Train([text], 256 + 60 + BpeTrainer.Llama3SpecialTokens.Count);
        var ids = d.Tokens.Select((t, i) => (t, i)).ToDictionary(x => x.t, x => x.i);
        var words = Llama3PreTokenizer.CreateRegex().Matches(text).GroupBy(m => m.Value)
            .Select(g => (Parts: ByteLevel.EncodeText(g.Key).Select(c => c.ToString()).ToList(), Count: (long)g.Count())).ToList();
        foreach (string merge in d.Merges.Take(60))
        {
            var counts = new Dictionary<(string, string), long>();
            foreach (var (parts, count) in words)
                for (int i = 0; i + 1 < parts.Count; i++) counts[(parts[i], parts[i + 1])] = counts.GetValueOrDefault((parts[i], parts[i + 1])) + count;
            var best = counts.OrderByDescending(kv => kv.Value).ThenBy(kv => ids[kv.Key.Item1]).ThenBy(kv => ids[kv.Key.Item2]).First().Key;
            Assert.Equal($"{best.Item1} {best.Item2}", merge);
            foreach (var (parts, _) in words)
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (parts[i] == best.Item1 && parts[i + 1] == best.Item2) { parts[i] += parts[i + 1]; parts.RemoveAt(i + 1); }
        }
    }

    [Fact]
    public void Training_from_a_file_equals_training_from_the_text()
    {
        // Longer than one 1 M-char read chunk, so the chunk cut is exercised.
        string text = SyntheticCorpus.Make(1_300_000, seed: 5);
        string dir = TestPaths.NewTempDir("bpe-train");
        string path = Path.Combine(dir, "corpus.txt");
        File.WriteAllText(path, text);
        TokenizerData fromFile = BpeTrainer.TrainFile(path, 600);
        TokenizerData fromText = BpeTrainer.Train([text], 600);
        Assert.True(fromFile.ContentEquals(fromText));
    }

    [Fact]
    public void Trained_tokenizer_survives_save_and_load()
    {
        string path = Path.Combine(TestPaths.NewTempDir("bpe-save"), "tokenizer.json");
        TokenizerJson.Save(Trained.Value, path);
        Assert.True(Trained.Value.ContentEquals(TokenizerJson.Load(path)));
    }

    [Fact]
    public void Vocab_size_must_leave_room_for_bytes_and_specials() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BpeTrainer.Train(["abc"], 256));

    [Fact]
    public void Small_corpus_stops_when_no_pair_repeats()
    {
        // Pre-tokens "abab" and " abab": merge a+b (count 4), then ab+ab (2); " "+abab occurs once, so stop.
        TokenizerData d = BpeTrainer.Train(["abab abab"], 5000, specialTokens: ["<|begin_of_text|>", "<|end_of_text|>"]);
        Assert.Equal(["a b", "ab ab"], d.Merges);
        Assert.Equal(260, d.Tokens.Count);
        Assert.Equal(258, d.BosId);
        Assert.Equal(259, d.EosId);
        Assert.Equal([258, 257, 32, 257], new LlamaTokenizer(d).Encode("abab abab"));
    }

    /// <summary>Textbook BPE: .NET regex pre-tokens (BMP text), whole-word lookup, then the lowest-rank pair merged everywhere, repeatedly.</summary>
    private sealed class NaiveBpe(TokenizerData data)
    {
        private readonly Dictionary<string, int> _ids = data.Tokens.Select((t, i) => (t, i)).Where(x => data.TokenTypes[x.i] == TokenType.Normal).ToDictionary(x => x.t, x => x.i);
        private readonly Dictionary<(string, string), int> _ranks = data.Merges.Select((m, r) => (m.Split(' '), r)).ToDictionary(x => (x.Item1[0], x.Item1[1]), x => x.r);

        public int[] Encode(string text)
        {
            var ids = new List<int>();
            foreach (System.Text.RegularExpressions.Match m in Llama3PreTokenizer.CreateRegex().Matches(text))
            {
                string spelled = ByteLevel.EncodeText(m.Value);
                if (_ids.TryGetValue(spelled, out int whole)) { ids.Add(whole); continue; }
                var parts = spelled.Select(c => c.ToString()).ToList();
                while (true)
                {
                    int best = -1, bestRank = int.MaxValue;
                    for (int i = 0; i + 1 < parts.Count; i++)
                        if (_ranks.TryGetValue((parts[i], parts[i + 1]), out int r) && r < bestRank) (best, bestRank) = (i, r);
                    if (best < 0) break;
                    parts[best] += parts[best + 1];
                    parts.RemoveAt(best + 1);
                }
                ids.AddRange(parts.Select(p => _ids[p]));
            }
            return [.. ids];
        }
    }
}
