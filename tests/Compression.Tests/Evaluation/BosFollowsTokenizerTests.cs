using Compression.Evaluation;
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.Perplexity;
using Compression.Model;
using Compression.Tokenization;

namespace Compression.Tests.Evaluation;

/// <summary>
/// Evaluation prepends BOS only when the model's tokenizer does: Llama's adds one; Qwen's vocabulary has a BOS id but its
/// tokenizer never adds it (neither does llama.cpp's perplexity nor lm-evaluation-harness), so its windows start bare.
/// </summary>
public sealed class BosFollowsTokenizerTests
{
    private const string Text = "one two three four five six seven eight nine ten eleven twelve";

    private static (LlamaModel Model, LlamaTokenizer Tokenizer) Tiny(bool addBos)
    {
        var data = TokenizerJson.Load(TestPaths.TinyLlamaFile("tokenizer.json")) with { AddBos = addBos };
        var tokenizer = new LlamaTokenizer(data);
        var model = LlamaModel.CreateRandom(new LlamaConfig
        {
            HiddenSize = 32, IntermediateSize = 64, NumLayers = 1, NumHeads = 4, NumKeyValueHeadsRaw = 2,
            VocabSize = data.Tokens.Count, MaxPositionEmbeddings = 256, RopeTheta = 10000, BosTokenIds = [data.BosId!.Value],
        }, seed: 3);
        return (model, tokenizer);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Perplexity_windows_and_encoding_follow_the_tokenizers_bos(bool addBos)
    {
        var (model, tokenizer) = Tiny(addBos);
        using var _ = model;
        using var lm = LlamaLanguageModel.WithTokenizer(model, tokenizer);
        int textTokens = tokenizer.Encode(Text, addBos: false).Length;

        Assert.Equal(addBos ? tokenizer.BosId : null, lm.BosId);
        Assert.Equal(textTokens + (addBos ? 1 : 0), lm.Encode(Text, addBos: true).Length);
        Assert.Equal(textTokens, lm.Encode(Text, addBos: false).Length);

        var result = new PerplexityTask(new WindowOptions { ContextLength = 64 }).Run(lm, Text);
        Assert.Equal(addBos, result.Options.PrependBos);
        // With BOS every text token is scored (the first from BOS alone); without, the first has no prediction.
        Assert.Equal(addBos ? textTokens : textTokens - 1, result.TokensScored);
    }
}
