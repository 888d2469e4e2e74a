// LogSoftmax: numerically stable log-softmax and argmax over one vocabulary row.
namespace Compression.Evaluation;

/// <summary>Row-wise helpers shared by model adapters and metrics.</summary>
public static class LogSoftmax
{
    /// <summary>
    /// Writes log-softmax(<paramref name="logits"/>) into <paramref name="destination"/> (same length; may alias).
    /// Subtracts the max first and accumulates the partition sum in double so large vocabularies stay exact to float precision.
    /// </summary>
    public static void Compute(ReadOnlySpan<float> logits, Span<float> destination)
    {
        if (logits.Length == 0) throw new ArgumentException("Empty logits row.", nameof(logits));
        if (destination.Length != logits.Length) throw new ArgumentException("Destination length differs from logits length.", nameof(destination));
        float max = float.NegativeInfinity;
        foreach (float x in logits) if (x > max) max = x;
        if (!float.IsFinite(max)) throw new ArgumentException("Logits row has no finite maximum (NaN or infinite values).", nameof(logits));
        double sum = 0;
        foreach (float x in logits) sum += Math.Exp(x - max);
        double logZ = max + Math.Log(sum);
        for (int i = 0; i < logits.Length; i++) destination[i] = (float)(logits[i] - logZ);
    }

    /// <summary>Index of the largest value; the first one on ties (as numpy's argmax).</summary>
    public static int ArgMax(ReadOnlySpan<float> row)
    {
        if (row.Length == 0) throw new ArgumentException("Empty row.", nameof(row));
        int best = 0;
        for (int i = 1; i < row.Length; i++) if (row[i] > row[best]) best = i;
        return best;
    }
}
