// MeanEstimate: a sample mean with its standard error and normal-approximation interval; paired differences.
namespace Compression.Evaluation.Metrics;

/// <summary>Mean of <see cref="Count"/> values, standard error s/√n (s with n − 1), interval mean ± z·stderr.</summary>
public sealed record MeanEstimate(double Mean, double StdErr, double Lower, double Upper, long Count, double Level)
{
    /// <summary>Estimates the mean of <paramref name="values"/>; stderr is 0 for a single value.</summary>
    public static MeanEstimate From(IReadOnlyList<double> values, double level = Confidence.Default)
    {
        if (values.Count == 0) throw new ArgumentException("At least one value is needed.", nameof(values));
        double mean = 0;
        foreach (double x in values) mean += x;
        mean /= values.Count;
        double ss = 0;
        foreach (double x in values) ss += (x - mean) * (x - mean);
        double se = values.Count > 1 ? Math.Sqrt(ss / (values.Count - 1) / values.Count) : 0;
        double z = Confidence.Z(level);
        return new MeanEstimate(mean, se, mean - z * se, mean + z * se, values.Count, level);
    }

    /// <summary>
    /// Paired difference a − b over the same items (e.g. per-question correctness 1/0 of two models, or
    /// per-token NLL): the mean of the differences with its stderr, which is far tighter than comparing two
    /// independent intervals because item difficulty cancels.
    /// </summary>
    public static MeanEstimate PairedDifference(IReadOnlyList<double> a, IReadOnlyList<double> b, double level = Confidence.Default)
    {
        if (a.Count != b.Count) throw new ArgumentException($"Paired samples differ in size ({a.Count} vs {b.Count}).");
        var d = new double[a.Count];
        for (int i = 0; i < d.Length; i++) d[i] = a[i] - b[i];
        return From(d, level);
    }
}
