// KlDivergenceTaskTests: candidate vs baseline side by side — identity, a hand-computed bigram-vs-uniform case.
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.KlDivergence;

namespace Compression.Tests.Evaluation.Tasks;

public class KlDivergenceTaskTests
{
    [Fact]
    public void ModelAgainstItself_HasZeroKlAndFullAgreement()
    {
        var result = new KlDivergenceTask(new WindowOptions { ContextLength = 3 }).Run(CharModel.Bigram(), CharModel.Bigram(), "abbaab");
        Assert.Equal(6, result.TokensScored);
        Assert.Equal(0, result.Kl.Max, 7);
        Assert.Equal(1, result.SameTop.Value);
        Assert.Equal(1, result.PerplexityRatio, 9);
        Assert.Equal(0, result.LnPerplexityRatio.Mean, 9);
    }

    [Fact]
    public void BigramAgainstUniform_MatchesHandComputedKl()
    {
        // Rows predicting "abba" after BOS: P(·|BOS) = [.5,.25,.25], P(·|a) = [.1,.8,.1], P(·|b) = [.6,.2,.2] twice.
        // KL(P ‖ uniform₃) = ln 3 + Σ p ln p: 0.0588915, 0.4595804, 0.1483417, 0.1483417.
        var result = new KlDivergenceTask(new WindowOptions { ContextLength = 5 }).Run(CharModel.Bigram(), CharModel.Uniform("ab"), "abba");
        Assert.Equal(4, result.TokensScored);
        Assert.Equal(0.2037889, result.Kl.Mean.Mean, 6);
        Assert.Equal(0.1483417, result.Kl.Median, 6);
        Assert.Equal(0.4595804, result.Kl.Max, 6);
        Assert.Equal(0.0588915, result.Kl.Min, 6);
        // Uniform's argmax is token 0 ("a", first on ties): agrees after BOS and after b, not after a (where b wins).
        Assert.Equal(3, result.SameTop.Successes);
        Assert.Equal(Math.Pow(0.048, -0.25), result.BaselinePerplexity, 5);
        Assert.Equal(3, result.CandidatePerplexity, 5);
        Assert.Equal(3 / Math.Pow(0.048, -0.25), result.PerplexityRatio, 5);
        // Δp = mean(1/3 − p_base(actual)) over p_base = .5, .8, .2, .6.
        Assert.Equal(1.0 / 3 - (0.5 + 0.8 + 0.2 + 0.6) / 4, result.DeltaP.Mean, 6);
    }

    [Fact]
    public void SlidingWindows_GiveTheSameAnswerForABigram()
    {
        // A bigram only looks one token back, so one long window and stride-1 windows score identical tokens alike.
        const string text = "abbabaab";
        var whole = new KlDivergenceTask(new WindowOptions { ContextLength = 8, PrependBos = false }).Run(CharModel.Bigram(), CharModel.Uniform("ab"), text);
        var sliding = new KlDivergenceTask(new WindowOptions { ContextLength = 3, Stride = 1, PrependBos = false }).Run(CharModel.Bigram(), CharModel.Uniform("ab"), text);
        Assert.Equal(7, whole.TokensScored);
        Assert.Equal(7, sliding.TokensScored);
        Assert.Equal(whole.Kl.Mean.Mean, sliding.Kl.Mean.Mean, 9);
        Assert.Equal(whole.Kl.Median, sliding.Kl.Median, 9);
        Assert.Equal(whole.SameTop.Successes, sliding.SameTop.Successes);
        Assert.Equal(whole.BaselinePerplexity, sliding.BaselinePerplexity, 9);
    }

    [Fact]
    public void DifferentVocabulariesAreRejected() =>
        Assert.Throws<ArgumentException>(() => new KlDivergenceTask(new WindowOptions { ContextLength = 4 }).Run(CharModel.Bigram(), CharModel.Uniform("abc"), "abba"));
}
