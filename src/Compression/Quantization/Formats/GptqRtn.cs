// GptqRtn: round-to-nearest quantization of one row in GPTQ's arithmetic — fp16 scale and integer zero point per group.
namespace Compression.Quantization.Formats;

/// <summary>
/// One row's groups as a GPTQ checkpoint stores them: unsigned codes q ∈ [0, 2^bits − 1], an fp16 scale and an integer
/// zero point per group, with w = scale·(q − zero). The parameters follow AutoGPTQ's <c>Quantizer.find_params</c>
/// (the range always includes 0; symmetric: zero = 2^(bits−1), scale = 2·max|x|/maxq; asymmetric:
/// scale = (max − min)/maxq, zero = round(−min/scale)); a group of zeros gets the range [−1, 1] as there. One
/// deliberate difference: a symmetric group with no negative weight spans ±max here, where the reference keeps min = 0
/// and so clips the group's upper half.
/// The scale is rounded to fp16 first and the codes computed with the stored scale, so dequantizing what is
/// written gives exactly the values this routine means. The asymmetric zero is kept ≥ 1 because the checkpoint
/// stores zero − 1 in <c>bits</c> bits (AutoGPTQ's format); a group whose zero would be 0 (all weights ≥ 0) uses 1.
/// </summary>
public static class GptqRtn
{
    public static void QuantizeRow(ReadOnlySpan<float> x, int bits, int group, bool symmetric, Span<byte> codes, Span<Half> scales, Span<byte> zeros)
    {
        for (int g = 0; g < x.Length / group; g++)
        {
            var v = x.Slice(g * group, group);
            var (hs, zero) = Fit(v, bits, symmetric);
            scales[g] = hs;
            zeros[g] = zero;
            for (int j = 0; j < group; j++) codes[g * group + j] = Code(v[j], (float)hs, zero, bits);
        }
    }

    /// <summary>
    /// One group's fp16 scale and integer zero point (<c>find_params</c>), the range shrunk by <paramref name="clip"/>
    /// ∈ (0, 1] when an error-minimising search asks for it (1 = the reference).
    /// </summary>
    public static (Half Scale, byte Zero) Fit(ReadOnlySpan<float> v, int bits, bool symmetric, float clip = 1f)
    {
        int maxq = (1 << bits) - 1;
        float mn = 0, mx = 0;
        foreach (float f in v) { mn = MathF.Min(mn, f); mx = MathF.Max(mx, f); }
        if (symmetric) { mx = MathF.Max(-mn, mx); mn = -mx; }
        if (clip != 1f) { mn *= clip; mx *= clip; }
        if (mn == 0 && mx == 0) { mn = -1; mx = 1; }
        Half hs = (Half)((mx - mn) / maxq);
        float s = (float)hs;
        if (s == 0) { hs = Half.Epsilon; s = (float)hs; } // a range below fp16's smallest step
        int zero = symmetric ? (maxq + 1) / 2 : Math.Clamp((int)MathF.Round(-mn / s, MidpointRounding.ToEven), 1, maxq);
        return (hs, (byte)zero);
    }

    /// <summary>q = clamp(round(x/scale) + zero, 0, 2^bits − 1) with the stored (fp16) scale; ties to even as torch.round.</summary>
    public static byte Code(float x, float scale, int zero, int bits) =>
        (byte)Math.Clamp(MathF.Round(x / scale, MidpointRounding.ToEven) + zero, 0, (1 << bits) - 1);

    /// <summary>w = scale·(q − zero), computed in float32.</summary>
    public static float Dequantize(byte code, Half scale, byte zero) => (float)scale * (code - zero);
}
