// GgufRopeFactors: the rope_freqs.weight values llama.cpp's converter derives from a Llama 3 rope_scaling block.
using Compression.Model;

namespace Compression.Checkpoints.Gguf;

/// <summary>Llama 3 rope scaling expressed as GGUF's per-frequency divisors.</summary>
public static class GgufRopeFactors
{
    /// <summary>
    /// head_dim/2 divisors d[i] with scaled_inv_freq[i] = inv_freq[i] / d[i], or null when the config has
    /// no llama3 rope scaling. Computed step by step in float32 exactly as convert_hf_to_gguf.py does with
    /// torch float32 tensors, so the bytes match the files llama.cpp produces.
    /// </summary>
    public static float[]? FromConfig(LlamaConfig c)
    {
        if (c.RopeScaling is not { Kind: "llama3" } rs) return null;
        int dim = c.HeadDim;
        float factor = (float)rs.Factor, low = (float)rs.LowFreqFactor, high = (float)rs.HighFreqFactor;
        float oldContext = rs.OriginalMaxPositionEmbeddings;
        float lowWavelen = oldContext / low, highWavelen = oldContext / high;
        var factors = new float[dim / 2];
        for (int i = 0; i < factors.Length; i++)
        {
            float exponent = (float)(2 * i) / dim;
            float freq = 1.0f / (float)Math.Pow(c.RopeTheta, exponent); // torch: python float ** f32 tensor → f32
            float wavelen = (float)(2 * Math.PI) / freq; // torch casts the python scalar to f32, then divides
            if (wavelen < highWavelen) factors[i] = 1f;
            else if (wavelen > lowWavelen) factors[i] = factor;
            else
            {
                float smooth = (oldContext / wavelen - low) / (high - low);
                factors[i] = 1f / ((1f - smooth) / factor + smooth);
            }
        }
        return factors;
    }
}
