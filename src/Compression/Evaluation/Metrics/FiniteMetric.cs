// FiniteMetric: a metric that comes out NaN or ±Inf is an error, never a record ("perplexity": "NaN" compares as nothing).
namespace Compression.Evaluation.Metrics;

/// <summary>Checks on figures before they are reported or stored.</summary>
public static class FiniteMetric
{
    /// <summary>Returns <paramref name="value"/>, or throws naming the metric and the task when it is NaN or ±Inf.</summary>
    public static double Require(double value, string metric, string task)
    {
        if (double.IsFinite(value)) return value;
        throw new InvalidDataException(
            $"{task}: {metric} came out {value} — the model produces non-finite log-probabilities (NaN/Inf weights or an overflow); no result was recorded");
    }
}
