// Sampler: picks the next token from a logits row — greedy, or temperature + nucleus (top-p) with a seed.
namespace Compression.Inference;

/// <summary>Sampling settings; temperature 0 means greedy (argmax).</summary>
public sealed record SamplingOptions
{
    public double Temperature { get; init; }
    public double TopP { get; init; } = 1.0;
    public int Seed { get; init; }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the option when a setting is out of range: temperature must be
    /// finite and ≥ 0, top_p in (0, 1]. (NaN would otherwise pass every comparison and sample garbage.)
    /// </summary>
    public SamplingOptions Validate()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0)
            throw new ArgumentException($"--temperature {Temperature}: must be a finite number ≥ 0 (0 = greedy)");
        if (!double.IsFinite(TopP) || TopP <= 0 || TopP > 1)
            throw new ArgumentException($"--top-p {TopP}: must be in (0, 1]");
        return this;
    }
}

/// <summary>Draws tokens from logits; deterministic for a given seed.</summary>
public sealed class Sampler
{
    private readonly SamplingOptions options;
    private readonly Random _random;

    public Sampler(SamplingOptions options)
    {
        this.options = options.Validate();
        _random = new Random(options.Seed);
    }
    // Buffers reused across tokens (sized to the vocabulary on first use): no per-token managed allocation.
    private double[] _probs = [];
    private double[] _keys = [];
    private int[] _order = [];

    public int Next(ReadOnlySpan<float> logits)
    {
        if (options.Temperature <= 0) return ArgMax(logits);
        int n = logits.Length;
        if (_probs.Length != n) (_probs, _keys, _order) = (new double[n], new double[n], new int[n]);
        // Softmax at temperature T in double, then keep the smallest set of tokens whose mass reaches top_p.
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            sum += _probs[i] = Math.Exp((logits[i] - max) / options.Temperature);
            _keys[i] = -_probs[i];
            _order[i] = i;
        }
        // Descending probability, ties by token id (a stable order, as the LINQ sort this replaces).
        Array.Sort(_keys, _order);
        for (int i = 0, j; i < n; i = j)
        {
            for (j = i + 1; j < n && _keys[j] == _keys[i]; j++) { }
            if (j - i > 1) Array.Sort(_order, i, j - i); // Array.Sort is not stable: equal keys back in id order
        }
        double kept = 0;
        int count = 0;
        while (count < n && (count == 0 || kept / sum < options.TopP)) kept += _probs[_order[count++]];
        double u = _random.NextDouble() * kept;
        for (int i = 0; i < count; i++)
        {
            u -= _probs[_order[i]];
            if (u <= 0) return _order[i];
        }
        return _order[count - 1];
    }

    /// <summary>Index of the largest logit (the first one on ties, as llama.cpp's greedy sampler).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
