// TernaryCodec: tq1_0/tq2_0's block rule (d = max |x|, code = lroundf(x/d) + 1) as fit + code; the packing is the format's.
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>
/// The ternary formats as <see cref="TernaryFormat.QuantizeRowReference"/>: codes use the unrounded 1/amax, values the
/// fp16 d. A clipped fit shrinks the scale (<c>amax·clip</c>), so values beyond it are clamped to ±1 — the candidates an
/// importance-weighted search tries (absmax is a poor scale for Gaussian-like weights: 0.8 of their RMS is lost).
/// </summary>
public sealed class TernaryCodec(TernaryFormat format) : BlockCodec
{
    public override int BlockSize => TernaryFormat.Block;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        float a = TernaryFormat.AbsMax(x) * clip;
        return new BlockParams((float)(Half)a, 0f, TernaryFormat.Inverse(a));
    }

    /// <summary>Codes with the inverse of the stored scale (the reference uses the unrounded amax, which a learned scale has not).</summary>
    public override BlockParams? FromScale(float scale)
    {
        float d = StoredScale(scale);
        return new BlockParams(d, 0f, TernaryFormat.Inverse(d));
    }
    public override (int Negative, int Positive) Levels => (1, 1);

    public override int Code(float x, in BlockParams p) => Math.Clamp(TernaryFormat.Trit(x, p.Inverse), 0, 2);

    public override float Value(int code, in BlockParams p) => (code - 1) * p.Scale;

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block) => format.PackBlock((Half)p.Scale, codes, block);
}
