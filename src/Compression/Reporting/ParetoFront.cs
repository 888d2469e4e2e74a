// ParetoFront: which size/quality points are not beaten by a smaller-or-equal and better-or-equal point.
namespace Compression.Reporting;

/// <summary>
/// Pareto front for "smaller is better" size against a quality that is minimised (perplexity, KL divergence) or
/// maximised (accuracy). Pure functions; non-finite points never belong to the front.
/// </summary>
public static class ParetoFront
{
    /// <summary>
    /// Indices of the non-dominated points, ordered by size ascending. Point i is dominated when some j has
    /// size ≤ and quality at least as good, one of them strictly. Exact duplicates appear once (the lowest index).
    /// Along the returned order, quality strictly improves with size — the shape the step line draws.
    /// </summary>
    /// <param name="size">Cost to minimise (bytes or bits per weight).</param>
    /// <param name="quality">Metric value per point, same length as <paramref name="size"/>.</param>
    /// <param name="higherIsBetter">True for accuracy-like metrics, false for losses.</param>
    public static int[] Indices(ReadOnlySpan<double> size, ReadOnlySpan<double> quality, bool higherIsBetter)
    {
        if (size.Length != quality.Length)
            throw new ArgumentException($"size has {size.Length} points but quality has {quality.Length}");
        var candidates = new List<(double Size, double Loss, int Index)>(size.Length);
        for (int i = 0; i < size.Length; i++)
        {
            if (!double.IsFinite(size[i]) || !double.IsFinite(quality[i])) continue;
            candidates.Add((size[i], higherIsBetter ? -quality[i] : quality[i], i));
        }
        // Size ascending, then loss ascending, then index: a point survives when it beats every point before it.
        candidates.Sort((a, b) => a.Size != b.Size ? a.Size.CompareTo(b.Size)
            : a.Loss != b.Loss ? a.Loss.CompareTo(b.Loss) : a.Index.CompareTo(b.Index));
        var front = new List<int>();
        double best = double.PositiveInfinity;
        foreach (var c in candidates)
        {
            if (c.Loss < best)
            {
                front.Add(c.Index);
                best = c.Loss;
            }
        }
        return front.ToArray();
    }

    /// <summary>The non-dominated items of <paramref name="items"/>, ordered by size ascending (see <see cref="Indices"/>).</summary>
    public static IReadOnlyList<T> Select<T>(IReadOnlyList<T> items, Func<T, double> size, Func<T, double> quality, bool higherIsBetter)
    {
        double[] s = items.Select(size).ToArray();
        double[] q = items.Select(quality).ToArray();
        return Indices(s, q, higherIsBetter).Select(i => items[i]).ToArray();
    }
}
