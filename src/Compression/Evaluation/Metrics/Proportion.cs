// Proportion: a success rate (accuracy, top-1 agreement) with its Wilson score interval.
namespace Compression.Evaluation.Metrics;

/// <summary>A proportion <see cref="Successes"/>/<see cref="Trials"/> with a Wilson score confidence interval.</summary>
public sealed record Proportion(long Successes, long Trials, double Value, double Lower, double Upper, double Level)
{
    /// <summary>
    /// Wilson score interval: centre (p̂ + z²/2n)/(1 + z²/n), half-width z/(1 + z²/n)·√(p̂(1−p̂)/n + z²/4n²).
    /// Unlike p̂ ± z·se it stays inside [0, 1] and is sensible at 0 or n successes. 50/100 → [0.4038, 0.5962].
    /// </summary>
    public static Proportion Wilson(long successes, long trials, double level = Confidence.Default)
    {
        if (trials <= 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "At least one trial is needed.");
        if (successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), successes, $"Must be in [0, {trials}].");
        double z = Confidence.Z(level);
        double n = trials, p = successes / n, z2 = z * z;
        double denominator = 1 + z2 / n;
        double centre = (p + z2 / (2 * n)) / denominator;
        double half = z / denominator * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        return new Proportion(successes, trials, p, Math.Max(0, centre - half), Math.Min(1, centre + half), level);
    }
}
