// Confidence: the normal quantile behind every two-sided interval the harness reports.
using MathNet.Numerics.Distributions;

namespace Compression.Evaluation.Metrics;

/// <summary>Two-sided normal critical values.</summary>
public static class Confidence
{
    /// <summary>Default confidence level of reported intervals.</summary>
    public const double Default = 0.95;

    /// <summary>z with P(|Z| ≤ z) = <paramref name="level"/>; 1.959964 for 0.95.</summary>
    public static double Z(double level = Default)
    {
        if (!(level > 0 && level < 1)) throw new ArgumentOutOfRangeException(nameof(level), level, "Confidence level must be in (0, 1).");
        return Normal.InvCDF(0, 1, 1 - (1 - level) / 2);
    }
}
