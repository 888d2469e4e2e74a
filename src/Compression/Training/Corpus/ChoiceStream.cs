// ChoiceStream: the seeded random source behind every generated word, which also counts the bits each choice costs.
namespace Compression.Training.Corpus;

/// <summary>
/// A SplitMix64 random stream (fixed algorithm, so output never changes with the .NET version) whose
/// every draw adds its information content, −log2 P(outcome), to <see cref="Bits"/>. Summed over a
/// document this is −log2 of the probability the generator gave that document's choice sequence.
/// </summary>
internal sealed class ChoiceStream
{
    private ulong _state;

    public ChoiceStream(ulong seed) => _state = seed;

    /// <summary>Information spent so far, in bits.</summary>
    public double Bits { get; private set; }

    /// <summary>Discards the information count (used when text is drawn that the caller accounts for otherwise).</summary>
    public void ResetBits() => Bits = 0;

    private ulong NextU64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform integer in [0, n) (Lemire's unbiased multiply-shift); costs log2 n bits.</summary>
    public int Next(int n)
    {
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(n), n, "need at least one outcome");
        Bits += Log2(n);
        return Draw(n);
    }

    /// <summary>Uniform integer in [lo, hi] inclusive.</summary>
    public int Range(int lo, int hi) => lo + Next(hi - lo + 1);

    /// <summary>A uniform element of <paramref name="items"/>.</summary>
    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    /// <summary>A fair coin.</summary>
    public bool Flip() => Next(2) == 1;

    /// <summary>Index i with probability weights[i] / Σ weights; costs −log2 of that probability.</summary>
    public int Weighted(ReadOnlySpan<int> weights)
    {
        int total = 0;
        foreach (int w in weights) total += w;
        int r = Draw(total);
        for (int i = 0; i < weights.Length; i++)
        {
            if (r < weights[i])
            {
                Bits += Log2(total) - Log2(weights[i]);
                return i;
            }
            r -= weights[i];
        }
        throw new InvalidOperationException("unreachable: weights exhausted");
    }

    /// <summary>
    /// Fills <paramref name="destination"/> with distinct indices in [0, n), in draw order
    /// (an ordered sample without replacement; costs log2 n + log2(n−1) + … bits).
    /// </summary>
    public void Distinct(int n, Span<int> destination)
    {
        if (destination.Length > n) throw new ArgumentOutOfRangeException(nameof(n), n, $"cannot draw {destination.Length} distinct values");
        for (int i = 0; i < destination.Length; i++)
        {
            int v;
            bool fresh;
            // Rejection keeps the draw uniform over the n − i unused values; k ≤ 6 here, so it is cheap.
            do
            {
                v = Draw(n);
                fresh = true;
                for (int j = 0; j < i; j++) if (destination[j] == v) { fresh = false; break; }
            } while (!fresh);
            Bits += Log2(n - i);
            destination[i] = v;
        }
    }

    /// <summary>Uniform integer in [0, n) that is not in <paramref name="used"/> (distinct values); costs log2(n − |used|) bits.</summary>
    public int NextExcept(int n, List<int> used)
    {
        if (used.Count >= n) throw new ArgumentOutOfRangeException(nameof(n), n, "no unused value left");
        int k = Next(n - used.Count);
        // The k-th unused value in increasing order: a bijection, so the draw stays uniform.
        for (int v = 0; v < n; v++)
        {
            if (used.Contains(v)) continue;
            if (k-- == 0) { used.Add(v); return v; }
        }
        throw new InvalidOperationException("unreachable: ran out of values");
    }

    /// <summary>Fisher–Yates shuffle in place; costs log2(count!) bits.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = Next(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    private int Draw(int n)
    {
        ulong bound = (ulong)n;
        ulong m = (NextU64() >> 32) * bound;
        if ((uint)m < (uint)n)
        {
            uint threshold = (uint)(-n) % (uint)n;
            while ((uint)m < threshold) m = (NextU64() >> 32) * bound;
        }
        return (int)(m >> 32);
    }

    private static readonly double[] SmallLog2 = Enumerable.Range(0, 257).Select(i => i == 0 ? 0.0 : Math.Log2(i)).ToArray();

    private static double Log2(int n) => n < SmallLog2.Length ? SmallLog2[n] : Math.Log2(n);
}
