// KlDivergenceMetrics: per-position KL divergence and top-1 agreement between two log-probability rows.
namespace Compression.Evaluation.Metrics;

/// <summary>Pure per-token comparisons of a baseline distribution P and a candidate distribution Q.</summary>
public static class KlDivergenceMetrics
{
    /// <summary>
    /// KL(P ‖ Q) = Σᵢ pᵢ (ln pᵢ − ln qᵢ) in nats, from log-softmax rows; terms with pᵢ = 0 contribute 0.
    /// Accumulated in double; tiny negative results from rounding are clamped to 0 (KL is non-negative).
    /// </summary>
    public static double Compute(ReadOnlySpan<float> logP, ReadOnlySpan<float> logQ)
    {
        if (logP.Length != logQ.Length) throw new ArgumentException($"Rows differ in length ({logP.Length} vs {logQ.Length}).");
        double kl = 0;
        for (int i = 0; i < logP.Length; i++)
        {
            double lp = logP[i];
            if (double.IsNegativeInfinity(lp)) continue;
            kl += Math.Exp(lp) * (lp - logQ[i]);
        }
        return Math.Max(0, kl);
    }

    /// <summary>Whether both rows put their maximum on the same token ("same top" in llama.cpp).</summary>
    public static bool SameTop(ReadOnlySpan<float> logP, ReadOnlySpan<float> logQ) =>
        LogSoftmax.ArgMax(logP) == LogSoftmax.ArgMax(logQ);
}
