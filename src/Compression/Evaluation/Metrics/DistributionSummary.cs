// DistributionSummary: mean ± stderr, median, tail percentiles and extremes of a sample (per-token KL divergence).
using MathNet.Numerics.Statistics;

namespace Compression.Evaluation.Metrics;

/// <summary>
/// Summary of a sample as llama.cpp's <c>--kl-divergence</c> prints it. Percentiles use linear interpolation
/// between order statistics (Hyndman–Fan R7, numpy's default): for sorted x₀..xₙ₋₁ the q-quantile is at rank
/// h = (n − 1)q, x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋₊₁ − x⌊h⌋).
/// </summary>
public sealed record DistributionSummary(
    MeanEstimate Mean, double Median, double P90, double P95, double P99, double P999, double Min, double Max)
{
    /// <summary>Summarises <paramref name="values"/> (not modified).</summary>
    public static DistributionSummary From(IReadOnlyList<double> values, double level = Confidence.Default)
    {
        if (values.Count == 0) throw new ArgumentException("At least one value is needed.", nameof(values));
        double[] sorted = values.ToArray();
        Array.Sort(sorted);
        return new DistributionSummary(
            MeanEstimate.From(values, level),
            Percentile(sorted, 0.5), Percentile(sorted, 0.90), Percentile(sorted, 0.95),
            Percentile(sorted, 0.99), Percentile(sorted, 0.999), sorted[0], sorted[^1]);
    }

    /// <summary>R7 quantile <paramref name="q"/> ∈ [0, 1] of an ascending array.</summary>
    public static double Percentile(double[] sorted, double q)
    {
        if (sorted.Length == 0) throw new ArgumentException("Empty sample.", nameof(sorted));
        if (!(q >= 0 && q <= 1)) throw new ArgumentOutOfRangeException(nameof(q), q, "Must be in [0, 1].");
        return SortedArrayStatistics.QuantileCustom(sorted, q, QuantileDefinition.R7);
    }
}
