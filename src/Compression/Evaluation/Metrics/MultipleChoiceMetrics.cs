// MultipleChoiceMetrics: which choice a model picks, by raw and by length-normalised log-likelihood.
namespace Compression.Evaluation.Metrics;

/// <summary>Pure choice rules of lm-evaluation-harness's multiple_choice output type.</summary>
public static class MultipleChoiceMetrics
{
    /// <summary>acc's pick: the choice with the largest summed log-probability (first on ties).</summary>
    public static int Pick(ReadOnlySpan<double> logLikelihoods)
    {
        if (logLikelihoods.Length == 0) throw new ArgumentException("No choices.", nameof(logLikelihoods));
        int best = 0;
        for (int j = 1; j < logLikelihoods.Length; j++) if (logLikelihoods[j] > logLikelihoods[best]) best = j;
        return best;
    }

    /// <summary>
    /// acc_norm's pick: the largest log-probability divided by the choice's length in UTF-8 bytes (lm-eval divides
    /// by the length of the choice string, without the space that joins it to the context).
    /// </summary>
    public static int PickNormalised(ReadOnlySpan<double> logLikelihoods, ReadOnlySpan<int> byteLengths)
    {
        if (logLikelihoods.Length != byteLengths.Length) throw new ArgumentException("One length per choice is needed.");
        Span<double> normalised = logLikelihoods.Length <= 64 ? stackalloc double[logLikelihoods.Length] : new double[logLikelihoods.Length];
        for (int j = 0; j < normalised.Length; j++)
        {
            if (byteLengths[j] <= 0) throw new ArgumentOutOfRangeException(nameof(byteLengths), $"Choice {j} has length {byteLengths[j]}.");
            normalised[j] = logLikelihoods[j] / byteLengths[j];
        }
        return Pick(normalised);
    }
}
