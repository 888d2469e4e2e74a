// Q1_0Codec: q1_0's block rule (d = mean |x|, bit = x ≥ 0) as fit + code; the weighted fit has a closed form.
using System.Runtime.InteropServices;
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>q1_0 as <see cref="Q1_0Format.QuantizeRowReference"/> (sequential float sum, fp16 d).</summary>
public sealed class Q1_0Codec : BlockCodec
{
    public static readonly Q1_0Codec Instance = new();
    public override int BlockSize => 128;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        float sum = 0;
        for (int j = 0; j < x.Length; j++) sum += MathF.Abs(x[j]);
        float d = (float)(Half)(sum * clip / 128f);
        return new BlockParams(d, 0f, 0f);
    }

    /// <summary>
    /// With the signs fixed, Σ wⱼ(|xⱼ| − d)² is least at d = Σ wⱼ|xⱼ| / Σ wⱼ; with all weights 1 that is the reference
    /// mean (the same sequential float sum, divided by 128).
    /// </summary>
    public override BlockParams FitWeighted(ReadOnlySpan<float> x, ReadOnlySpan<float> weights)
    {
        float num = 0, den = 0;
        for (int j = 0; j < x.Length; j++) { num += weights[j] * MathF.Abs(x[j]); den += weights[j]; }
        return den > 0 ? new BlockParams((float)(Half)(num / den), 0f, 0f) : Fit(x);
    }

    /// <summary>Any scale: the codes are the signs whatever it is.</summary>
    public override BlockParams? FromScale(float scale) => new BlockParams(StoredScale(scale), 0f, 0f);
    public override (int Negative, int Positive) Levels => (1, 1);
    public override bool CodesIgnoreScale => true;

    public override int Code(float x, in BlockParams p) => x >= 0 ? 1 : 0;

    public override float Value(int code, in BlockParams p) => code != 0 ? p.Scale : -p.Scale;

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block)
    {
        MemoryMarshal.Write(block, (Half)p.Scale);
        for (int k = 0; k < 16; k++)
        {
            int bits = 0;
            for (int j = 0; j < 8; j++) bits |= codes[8 * k + j] << j;
            block[2 + k] = (byte)bits;
        }
    }
}
