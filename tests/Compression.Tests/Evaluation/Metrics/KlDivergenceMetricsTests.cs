// KlDivergenceMetricsTests: KL identities, a hand-computed value, non-negativity, top-1 agreement.
using Compression.Evaluation;
using Compression.Evaluation.Metrics;

namespace Compression.Tests.Evaluation.Metrics;

public class KlDivergenceMetricsTests
{
    private static float[] Log(params double[] p) => p.Select(x => (float)Math.Log(x)).ToArray();

    [Fact]
    public void KlOfADistributionWithItselfIsZero()
    {
        var p = Log(0.2, 0.3, 0.5);
        Assert.Equal(0, KlDivergenceMetrics.Compute(p, p), 12);
    }

    [Fact]
    public void KlOfKnownDistributions()
    {
        // KL([.5,.5] ‖ [.9,.1]) = .5 ln(.5/.9) + .5 ln(.5/.1) = 0.5108256.
        Assert.Equal(0.5108256, KlDivergenceMetrics.Compute(Log(0.5, 0.5), Log(0.9, 0.1)), 6);
        // Reversed: .9 ln(.9/.5) + .1 ln(.1/.5) = 0.3680642 — KL is not symmetric.
        Assert.Equal(0.3680642, KlDivergenceMetrics.Compute(Log(0.9, 0.1), Log(0.5, 0.5)), 6);
    }

    [Fact]
    public void ZeroProbabilityTermsContributeNothing()
    {
        // P = [1, 0], Q = [.5, .5]: only the first term counts, 1·ln(1/.5) = ln 2.
        float[] p = [0f, float.NegativeInfinity];
        Assert.Equal(Math.Log(2), KlDivergenceMetrics.Compute(p, Log(0.5, 0.5)), 6);
    }

    [Fact]
    public void KlIsNonNegativeOnRandomRows()
    {
        var random = new Random(7);
        for (int trial = 0; trial < 200; trial++)
        {
            int v = random.Next(2, 300);
            float[] a = new float[v], b = new float[v];
            for (int i = 0; i < v; i++) { a[i] = (float)(random.NextDouble() * 20 - 10); b[i] = (float)(random.NextDouble() * 20 - 10); }
            LogSoftmax.Compute(a, a);
            LogSoftmax.Compute(b, b);
            Assert.True(KlDivergenceMetrics.Compute(a, b) > 0);
            Assert.Equal(0, KlDivergenceMetrics.Compute(a, a), 9);
        }
    }

    [Fact]
    public void SameTop_ComparesArgmaxes()
    {
        Assert.True(KlDivergenceMetrics.SameTop(Log(0.1, 0.7, 0.2), Log(0.3, 0.4, 0.3)));
        Assert.False(KlDivergenceMetrics.SameTop(Log(0.1, 0.7, 0.2), Log(0.5, 0.4, 0.1)));
    }
}
