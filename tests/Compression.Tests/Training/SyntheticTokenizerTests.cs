// SyntheticTokenizerTests: synth's tokenizer has exactly the config's vocabulary, Llama 3's special-token ids at
// 128,256, distinct names, and round-trips text through the real tokenizer.
using Compression.Tokenization;
using Compression.Training.Corpus;

namespace Compression.Tests.Training;

public class SyntheticTokenizerTests
{
    private static readonly Lazy<TokenizerData> Llama3 = new(() => SyntheticTokenizer.Build(128_256));

    [Fact]
    public void Llama3VocabularyHasLlama3sSpecialTokenIds()
    {
        var t = Llama3.Value;
        Assert.Equal(128_256, t.Tokens.Count);
        Assert.Equal(128_256, t.TokenTypes.Count);
        Assert.Equal(128_000, t.BosId);
        Assert.Equal(128_001, t.EosId);
        Assert.Equal("<|begin_of_text|>", t.Tokens[128_000]);
        Assert.Equal("<|end_of_text|>", t.Tokens[128_001]);
        Assert.Equal("<|reserved_special_token_0|>", t.Tokens[128_002]);
        Assert.Equal("<|start_header_id|>", t.Tokens[128_006]);
        Assert.Equal("<|eot_id|>", t.Tokens[128_009]);
        Assert.Equal("<|python_tag|>", t.Tokens[128_010]);
        Assert.Equal("<|reserved_special_token_3|>", t.Tokens[128_011]);
        Assert.Equal("<|reserved_special_token_247|>", t.Tokens[128_255]);
        Assert.Equal(t.Tokens.Count, t.Tokens.Distinct(StringComparer.Ordinal).Count());
        Assert.All(Enumerable.Range(0, 256), b => Assert.Equal(TokenType.Normal, t.TokenTypes[b]));
        Assert.True(t.Merges.Count > 100, $"only {t.Merges.Count} merges learned");
    }

    [Fact]
    public void RoundTripsCorpusTextWithMergedTokens()
    {
        var tokenizer = new LlamaTokenizer(Llama3.Value);
        string text = new CorpusGenerator(7).Document(CorpusSplit.Test, 3).Text;
        var ids = tokenizer.Encode(text, addBos: true);
        Assert.Equal(128_000, ids[0]);
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecial: true));
        Assert.True(ids.Length < text.Length / 2, $"{ids.Length} tokens for {text.Length} chars: the merges are not used");
        Assert.All(ids.Skip(1), id => Assert.True(id < 128_000));
    }

    [Fact]
    public void SmallVocabularyEndsWithTheTenNamedTokens()
    {
        var t = SyntheticTokenizer.Build(1024, seed: 3);
        Assert.Equal(1024, t.Tokens.Count);
        Assert.Equal(1014, t.BosId);
        Assert.Equal("<|eot_id|>", t.Tokens[1023]);
        Assert.Equal(t.Tokens.Count, t.Tokens.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void VocabularyTooSmallIsRefused() =>
        Assert.Throws<ArgumentException>(() => SyntheticTokenizer.Build(260));
}
