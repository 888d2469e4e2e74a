// PerplexityTaskTests: perplexity of known distributions, BOS handling, bits per byte over the scored bytes.
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.Perplexity;

namespace Compression.Tests.Evaluation.Tasks;

public class PerplexityTaskTests
{
    [Fact]
    public void UniformModel_HasPerplexityEqualToVocabularySize()
    {
        var model = CharModel.Uniform("abcdefg");
        var result = new PerplexityTask(new WindowOptions { ContextLength = 8 }).Run(model, "abcdefgabcdefgaabbccdd");
        Assert.Equal(8, result.Perplexity, 5);
        Assert.Equal(22, result.TokensScored);
        Assert.Equal(3, result.BitsPerByte, 5);           // ln 8 nats = 3 bits per one-byte token
        Assert.Equal(0, result.NllPerToken.StdErr, 6);
        Assert.Equal(PerplexityTask.Version, result.Version);
    }

    [Fact]
    public void Bigram_OneWindowWithBos()
    {
        // "abba" after BOS: P(a|BOS) P(b|a) P(b|b) P(a|b) = .5 · .8 · .2 · .6 = .048.
        var result = new PerplexityTask(new WindowOptions { ContextLength = 5 }).Run(CharModel.Bigram(), "abba");
        Assert.Equal(-Math.Log(0.048), result.TotalNll, 5);
        Assert.Equal(Math.Pow(0.048, -0.25), result.Perplexity, 5);
        Assert.Single(result.Windows);
    }

    [Fact]
    public void Documents_are_each_scored_from_their_own_bos_and_separators_are_not_scored()
    {
        // "ab" then "ba", each after BOS: P(a|BOS) P(b|a) · P(b|BOS) P(a|b) = (.5 · .8) · (.25 · .6) = .06, 4 tokens, 4 bytes.
        var options = new WindowOptions { ContextLength = 8, DocumentSeparator = "|" };
        var result = new PerplexityTask(options).Run(CharModel.Bigram(), "ab|ba");
        Assert.Equal(-Math.Log(0.06), result.TotalNll, 5);
        Assert.Equal(4, result.TokensScored);
        Assert.Equal(4, result.BytesScored);
        Assert.Equal(2, result.Windows.Count);
        // MaxTokens caps text tokens across documents: only "ab" and the "b" of "ba".
        var capped = new PerplexityTask(options with { MaxTokens = 3 }).Run(CharModel.Bigram(), "ab|ba");
        Assert.Equal(-Math.Log(0.5 * 0.8 * 0.25), capped.TotalNll, 5);
    }

    [Fact]
    public void Bigram_EachWindowRestartsAtBos()
    {
        // Windows [BOS a b] [BOS b a]: .5 · .8 · .25 · .6 = .06.
        var result = new PerplexityTask(new WindowOptions { ContextLength = 3 }).Run(CharModel.Bigram(), "abba");
        Assert.Equal(-Math.Log(0.06), result.TotalNll, 5);
        Assert.Equal(2, result.Windows.Count);
        Assert.Equal(-Math.Log(0.5 * 0.8), result.Windows[0].Nll, 5);
    }

    [Fact]
    public void Bigram_WithoutBos_FirstTokenIsOnlyContext()
    {
        // Windows "abb" then "ba" (sharing the middle b): P(b|a) P(b|b) P(a|b) = .8 · .2 · .6 = .096 over 3 tokens.
        var result = new PerplexityTask(new WindowOptions { ContextLength = 3, PrependBos = false }).Run(CharModel.Bigram(), "abba");
        Assert.Equal(3, result.TokensScored);
        Assert.Equal(-Math.Log(0.096), result.TotalNll, 5);
        Assert.Equal(Math.Pow(0.096, -1.0 / 3), result.Perplexity, 5);
    }

    [Fact]
    public void BitsPerByte_CountsOnlyTheBytesOfScoredTokens()
    {
        // Alphabet of 1-, 2- and 3-byte characters; uniform over 4 tokens → 2 bits per token.
        var model = CharModel.Uniform("aé€");
        const string text = "éa€€aé"; // 2+1+3+3+1+2 = 12 bytes
        var withBos = new PerplexityTask(new WindowOptions { ContextLength = 4 }).Run(model, text);
        Assert.Equal(12, withBos.BytesScored);
        Assert.Equal(6 * 2.0 / 12, withBos.BitsPerByte, 5);

        // Without BOS the leading "é" is never scored: 5 tokens over 10 bytes.
        var noBos = new PerplexityTask(new WindowOptions { ContextLength = 4, PrependBos = false }).Run(model, text);
        Assert.Equal(10, noBos.BytesScored);
        Assert.Equal(5 * 2.0 / 10, noBos.BitsPerByte, 5);

        // MaxTokens keeps "éa€": 6 bytes.
        var limited = new PerplexityTask(new WindowOptions { ContextLength = 4, MaxTokens = 3 }).Run(model, text);
        Assert.Equal(6, limited.BytesScored);
        Assert.Equal(3, limited.TokensScored);
    }

    [Fact]
    public void ContextLongerThanTheModelIsRejected() =>
        Assert.Throws<ArgumentException>(() => new PerplexityTask(new WindowOptions { ContextLength = 100 }).Run(CharModel.Bigram(maxContext: 8), "abba"));

    [Fact]
    public void RunFile_ReadsUtf8()
    {
        string dir = TestPaths.NewTempDir("ppl");
        string path = Path.Combine(dir, "wiki.test.raw");
        File.WriteAllText(path, "abba", new System.Text.UTF8Encoding(true)); // with a byte-order mark, which is dropped
        var result = new PerplexityTask(new WindowOptions { ContextLength = 5 }).RunFile(CharModel.Bigram(), path);
        Assert.Equal(4, result.TokensScored);
        File.WriteAllText(path, "");
        var e = Assert.Throws<InvalidDataException>(() => new PerplexityTask(new WindowOptions()).RunFile(CharModel.Bigram(), path));
        Assert.Contains(path, e.Message);
    }
}
