// RotaryEmbedding: inverse frequencies (with Llama 3 scaling) and the rotate-half application.
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>
/// RoPE in Hugging Face's rotate-half layout. Frequencies follow HF's <c>_compute_llama3_parameters</c>
/// when the config has llama3 rope scaling, or are divided by explicit per-pair factors (GGUF's
/// <c>rope_freqs.weight</c>) when those are given.
/// </summary>
public sealed class RotaryEmbedding : IDisposable
{
    private readonly double[] _invFreq; // (hd/2)

    public RotaryEmbedding(LlamaConfig config, IReadOnlyList<float>? frequencyFactors = null)
    {
        _invFreq = InverseFrequencies(config, frequencyFactors);
        FrequencyFactors = frequencyFactors;
    }

    /// <summary>The explicit per-pair divisors this embedding was made with (GGUF <c>rope_freqs</c>), or null.</summary>
    public IReadOnlyList<float>? FrequencyFactors { get; }

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

    /// <summary>
    /// cos and sin tables for positions [start, start+length), each (length, hd) in <paramref name="dtype"/>: views of
    /// tables built once per dtype and device and grown (doubling) when a longer sequence asks, so decoding a token
    /// computes no trigonometry and allocates no table.
    /// </summary>
    public (Tensor Cos, Tensor Sin) Tables(long start, long length, ScalarType dtype, Device device)
    {
        long needed = start + length;
        var key = (dtype, device.type, device.index);
        lock (_tables)
        {
            if (!_tables.TryGetValue(key, out var table) || table.Positions < needed)
            {
                long positions = Math.Max(needed, Math.Max(64, 2 * (table.Positions)));
                table.Cos?.Dispose();
                table.Sin?.Dispose();
                var (cos, sin) = Build(0, positions);
                table = (tensor(cos, [positions, _invFreq.Length * 2]).to(dtype, device).DetachFromDisposeScope(),
                         tensor(sin, [positions, _invFreq.Length * 2]).to(dtype, device).DetachFromDisposeScope(), positions);
                _tables[key] = table;
            }
            return (table.Cos!.narrow(0, start, length), table.Sin!.narrow(0, start, length));
        }
    }

    private readonly Dictionary<(ScalarType, TorchSharp.DeviceType, int), (Tensor? Cos, Tensor? Sin, long Positions)> _tables = [];

    /// <summary>cos and sin of every (position, pair) angle, row-major (length, hd), in rotate-half layout.</summary>
    private (float[] Cos, float[] Sin) Build(long start, long length)
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
        return (cos, sin);
    }

    /// <summary>Frees the cached tables.</summary>
    public void Dispose()
    {
        lock (_tables)
        {
            foreach (var (cos, sin, _) in _tables.Values) { cos?.Dispose(); sin?.Dispose(); }
            _tables.Clear();
        }
    }

    /// <summary>Applies the rotation to x of shape (B, heads, T, hd).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        var x1 = x[.., .., .., ..(int)half];
        var x2 = x[.., .., .., (int)half..];
        var rotated = cat([-x2, x1], -1);
        return (x * cos).Plus(rotated * sin).MoveToOuterDisposeScope();
    }
}
