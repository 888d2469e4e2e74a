// RotaryEmbedding: inverse frequencies (with Llama 3 scaling) and the rotate-half application.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// RoPE in Hugging Face's rotate-half layout. Frequencies follow HF's <c>_compute_llama3_parameters</c>
/// when the config has llama3 rope scaling, or are divided by explicit per-pair factors (GGUF's
/// <c>rope_freqs.weight</c>) when those are given.
/// </summary>
public sealed class RotaryEmbedding
{
    private readonly double[] _invFreq; // (hd/2)

    public RotaryEmbedding(LlamaConfig config, IReadOnlyList<float>? frequencyFactors = null)
    {
        _invFreq = InverseFrequencies(config, frequencyFactors);
    }

    public IReadOnlyList<double> InverseFrequency => _invFreq;

    /// <summary>inv_freq[i] = 1/θ^(2i/d), then Llama 3 scaling or explicit divisors.</summary>
    public static double[] InverseFrequencies(LlamaConfig c, IReadOnlyList<float>? factors = null)
    {
        int half = c.HeadDim / 2;
        var inv = new double[half];
        for (int i = 0; i < half; i++) inv[i] = 1.0 / Math.Pow(c.RopeTheta, 2.0 * i / c.HeadDim);
        if (factors is not null)
        {
            if (factors.Count != half)
                throw new InvalidDataException($"rope frequency factors have {factors.Count} entries, expected head_dim/2 = {half}");
            for (int i = 0; i < half; i++) inv[i] /= factors[i];
            return inv;
        }
        if (c.RopeScaling is { Kind: "llama3" } rs)
        {
            double lowWavelen = rs.OriginalMaxPositionEmbeddings / rs.LowFreqFactor;
            double highWavelen = rs.OriginalMaxPositionEmbeddings / rs.HighFreqFactor;
            for (int i = 0; i < half; i++)
            {
                double wavelen = 2 * Math.PI / inv[i];
                if (wavelen < highWavelen) continue;
                if (wavelen > lowWavelen) { inv[i] /= rs.Factor; continue; }
                double s = (rs.OriginalMaxPositionEmbeddings / wavelen - rs.LowFreqFactor) / (rs.HighFreqFactor - rs.LowFreqFactor);
                inv[i] = (1 - s) * inv[i] / rs.Factor + s * inv[i];
            }
        }
        return inv;
    }

    /// <summary>cos and sin tables for positions [start, start+length), each (length, hd) in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) Tables(long start, long length, ScalarType dtype, Device device)
    {
        int half = _invFreq.Length;
        var cos = new float[length * half * 2];
        var sin = new float[length * half * 2];
        for (long p = 0; p < length; p++)
            for (int i = 0; i < half; i++)
            {
                double angle = (start + p) * _invFreq[i]; // computed in double: exact for long contexts
                float c = (float)Math.Cos(angle), s = (float)Math.Sin(angle);
                long row = p * half * 2;
                cos[row + i] = cos[row + i + half] = c;
                sin[row + i] = sin[row + i + half] = s;
            }
        return (tensor(cos, [length, half * 2]).to(dtype, device), tensor(sin, [length, half * 2]).to(dtype, device));
    }

    /// <summary>Applies the rotation to x of shape (B, heads, T, hd).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x[.., .., .., ..(int)half];
        var x2 = x[.., .., .., (int)half..];
        var rotated = cat([-x2, x1], -1);
        return (x * cos + rotated * sin).MoveToOuterDisposeScope();
    }
}
