// Tests for Qwen2/Qwen3's tokenizer: its pre-tokenizer against its regex, and a trained byte-level vocabulary with
// pre = "qwen2" and Qwen's special tokens, id for id against llama.cpp from GGUF and from tokenizer.json.
using System.Text;
using Compression.Engines.LlamaCpp;
using Compression.Tokenization;

namespace Compression.Tests.Tokenization;

public class QwenTokenizerTests
{
    private static readonly string[] QwenSpecials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"];

    private static readonly Lazy<TokenizerData> Vocab = new(() =>
    {
        var trained = BpeTrainer.Train(SentencePieceTestVocab.TrainingTexts(), vocabSize: 700, QwenSpecials);
        int Id(string token) => trained.Tokens.ToList().IndexOf(token);
        return trained with
        {
            Pre = PreTokenizers.Qwen2.Name, IgnoreMerges = false, AddBos = false,
            BosId = Id("<|endoftext|>"), EosId = Id("<|im_end|>"), // as Qwen's GGUFs: BOS is <|endoftext|>, never added
        };
    });
    private static readonly Lazy<string> GgufPath = new(() => TokenizerReferenceCorpus.WriteVocabGguf(Vocab.Value, "qwen-vocab"));

    public static TheoryData<int> TextIndices()
    {
        var d = new TheoryData<int>();
        for (int i = 0; i < TokenizerReferenceCorpus.Texts.Length; i++) d.Add(i);
        return d;
    }

    [Theory]
    [MemberData(nameof(TextIndices))]
    public void Gguf_vocabulary_matches_llama_cpp(int index)
    {
        string text = TokenizerReferenceCorpus.Texts[index];
        var data = TokenizerReferenceCorpus.ReadVocabGguf(GgufPath.Value);
        Assert.Equal("qwen2", data.Pre);
        Assert.False(data.IgnoreMerges);
        var ours = new LlamaTokenizer(data);
        using var reference = LlamaCppVocabulary.Load(GgufPath.Value);
        // llama_tokenize's add_special follows the vocabulary's add_bos: Encode's addBos = null does the same.
        foreach (bool addBos in new[] { true, false })
            foreach (bool parseSpecial in new[] { false, true })
                Assert.Equal(reference.Tokenize(text, addBos, parseSpecial), ours.Encode(text, addBos ? null : false, parseSpecial));
    }

    /// <summary>
    /// Through tokenizer.json: the Qwen regex selects the qwen2 pre-tokenizer; with Qwen's NFC normalizer the ids are
    /// llama.cpp's ids of the NFC text (llama.cpp does not normalize; Hugging Face does).
    /// </summary>
    [Theory]
    [MemberData(nameof(TextIndices))]
    public void Tokenizer_json_of_the_same_vocabulary_matches_llama_cpp(int index)
    {
        string text = TokenizerReferenceCorpus.Texts[index];
        string json = Path.Combine(TestPaths.NewTempDir("qwen-json"), "tokenizer.json");
        TokenizerJson.Save(Vocab.Value with { NormalizeNfc = true }, json);
        var loaded = TokenizerJson.Load(json);
        Assert.Equal("qwen2", loaded.Pre);
        Assert.True(loaded.NormalizeNfc);
        Assert.False(loaded.AddBos);
        var ours = new LlamaTokenizer(loaded);
        using var reference = LlamaCppVocabulary.Load(GgufPath.Value);
        foreach (bool parseSpecial in new[] { false, true })
            Assert.Equal(reference.Tokenize(text.Normalize(NormalizationForm.FormC), addSpecial: true, parseSpecial), ours.Encode(text, parseSpecial: parseSpecial));
    }

    [Theory]
    [MemberData(nameof(TextIndices))]
    public void Decode_inverts_encode(int index)
    {
        string text = TokenizerReferenceCorpus.Texts[index];
        var tok = new LlamaTokenizer(Vocab.Value);
        Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void Digits_are_single_pre_tokens_and_chat_markers_are_special()
    {
        var tok = new LlamaTokenizer(Vocab.Value);
        var pieces = new List<(int Offset, int Length)>();
        Qwen2PreTokenizer.Split("x 2024 y", pieces);
        Assert.Equal(["x", " ", "2", "0", "2", "4", " y"], pieces.Select(p => "x 2024 y".Substring(p.Offset, p.Length)));
        Assert.Empty(tok.Encode("", addBos: null));                       // no BOS by default
        int imStart = tok.Data.Tokens.ToList().IndexOf("<|im_start|>"), imEnd = tok.Data.Tokens.ToList().IndexOf("<|im_end|>");
        int[] ids = tok.Encode("<|im_start|>user\nhi<|im_end|>", parseSpecial: true);
        Assert.Equal(imStart, ids[0]);
        Assert.Equal(imEnd, ids[^1]);
        Assert.True(tok.IsEndOfGeneration(imEnd));
        Assert.True(tok.IsEndOfGeneration(tok.Data.Tokens.ToList().IndexOf("<|endoftext|>")));
        Assert.DoesNotContain(imStart, tok.Encode("<|im_start|>"));      // plain text unless parseSpecial
        Assert.Equal("user\nhi", tok.Decode(ids, skipSpecial: true));
    }

    private static readonly System.Text.RegularExpressions.Regex Reference = Qwen2PreTokenizer.CreateRegex();

    [Fact]
    public void Pre_tokenizer_agrees_with_the_qwen_regex_on_random_bmp_text()
    {
        string[] alphabet = ["a", "B", "z", "é", "Ü", "時", "1", "9", "٣", "½", " ", " ", "  ", "\t", "\n", "\r", "\r\n", "'", "s", "t", "ll", "re", "ve",
            "M", "D", ".", ",", "!", "-", "$", "\u00A0", "\u3000", "\u2028", "_", "ª", "ǅ", "12345"];
        var rng = new Random(12);
        for (int trial = 0; trial < 2000; trial++)
        {
            var sb = new StringBuilder();
            int n = rng.Next(1, 30);
            for (int i = 0; i < n; i++) sb.Append(alphabet[rng.Next(alphabet.Length)]);
            string text = sb.ToString();
            var ranges = new List<(int Offset, int Length)>();
            Qwen2PreTokenizer.Split(text, ranges);
            Assert.Equal(Reference.Matches(text).Select(m => m.Value), ranges.Select(r => text.Substring(r.Offset, r.Length)));
        }
    }

    [Fact]
    public void Unknown_gguf_pre_tokenizer_names_the_supported_ones()
    {
        string path = TokenizerReferenceCorpus.WriteVocabGguf(Vocab.Value with { Pre = "qwen9" }, "qwen-bad");
        var e = Assert.Throws<InvalidDataException>(() => TokenizerReferenceCorpus.ReadVocabGguf(path));
        Assert.Contains("'qwen9' is not supported", e.Message);
        Assert.Contains("llama-bpe, qwen2", e.Message);
        Assert.Contains(path, e.Message);
    }
}
