// TokenWindowsTests: every scorable token is scored exactly once, for any stride, with and without BOS.
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.Perplexity;

namespace Compression.Tests.Evaluation.Tasks;

public class TokenWindowsTests
{
    [Fact]
    public void Plan_ScoresEachTokenOnce_ForAllSmallShapes()
    {
        for (int n = 0; n <= 30; n++)
        for (int window = 1; window <= 8; window++)
        for (int minContext = 0; minContext <= 1 && minContext < window; minContext++)
        for (int stride = 1; stride <= window - minContext; stride++)
        {
            var counts = new int[n];
            foreach (var w in TokenWindows.Plan(n, window, stride, minContext))
            {
                Assert.True(w.End - w.Begin <= window);
                Assert.True(w.ScoredFrom - w.Begin >= minContext);
                for (int i = w.ScoredFrom; i < w.End; i++) counts[i]++;
            }
            for (int i = 0; i < n; i++) Assert.Equal(i < minContext ? 0 : 1, counts[i]);
        }
    }

    [Fact]
    public void Plan_SlidingWindowMatchesHuggingFaceGuide()
    {
        // 10 tokens, windows of 4, stride 2: [0,4) scores all, then each window scores its last 2 tokens.
        var windows = TokenWindows.Plan(10, 4, 2, 0);
        Assert.Equal([new(0, 4, 0), new(2, 6, 4), new(4, 8, 6), new(6, 10, 8)], windows);
    }

    [Fact]
    public void Options_RejectAStrideThatSkipsTokens()
    {
        Assert.Throws<ArgumentException>(() => new WindowOptions { ContextLength = 4, Stride = 4 }.EffectiveStride);
        Assert.Equal(3, new WindowOptions { ContextLength = 4 }.EffectiveStride);
    }

    [Theory]
    [InlineData(true, 5, null)]
    [InlineData(true, 5, 2)]
    [InlineData(false, 5, null)]
    [InlineData(false, 6, 1)]
    public void PerplexityTask_ScoresEveryTokenOnceThroughTheModel(bool bos, int context, int? stride)
    {
        const int n = 23;
        var model = new RecordingModel(vocab: n + 1, maxContext: context);
        var result = new PerplexityTask(new WindowOptions { ContextLength = context, Stride = stride, PrependBos = bos })
            .Run(model, string.Join(' ', Enumerable.Range(0, n)));
        int first = bos ? 0 : 1;
        Assert.Equal(Enumerable.Range(first, n - first), model.Scored.Select(s => s.Token).Order());
        Assert.Equal(n - first, result.TokensScored);
        Assert.Equal(n - first, result.BytesScored);
        Assert.All(model.Scored, s => Assert.NotEqual(n, s.Token)); // BOS is never scored
    }
}
