// BlockCodec: a format's block rule split into its two halves — fit a block's parameters, then code values with them —
// so calibrated methods (GPTQ, importance-weighted rounding) can choose parameters and codes themselves.
namespace Compression.Quantization.Methods.Codecs;

/// <summary>
/// The parameters of one block as the format stores them. <see cref="Scale"/> and <see cref="Offset"/> are the stored
/// (rounded) values used to dequantize; <see cref="Inverse"/> is what the reference quantizer multiplies by when it
/// codes (llama.cpp codes Q4_0/Q8_0 with the unrounded 1/d), so coding with these parameters repeats it exactly.
/// </summary>
public readonly record struct BlockParams(float Scale, float Offset, float Inverse);

/// <summary>
/// One format's block quantizer, opened up. For every block, <c>Write(Fit(x), Code(x[j]))</c> gives the bytes of the
/// format's reference quantizer (a test checks it for every format that has a codec). Methods that feed back error
/// code values that drifted outside the fitted range: <see cref="Code"/> clamps to the format's code range.
/// </summary>
public abstract class BlockCodec
{
    /// <summary>Weights per block (the format's block size).</summary>
    public abstract int BlockSize { get; }

    /// <summary>The format's reference parameters for one block.</summary>
    public BlockParams Fit(ReadOnlySpan<float> x) => Fit(x, 1f);

    /// <summary>
    /// Parameters for a block whose range is shrunk by <paramref name="clip"/> ∈ (0, 1] (1 = the reference fit): the
    /// candidates an error-minimising scale search tries.
    /// </summary>
    public abstract BlockParams Fit(ReadOnlySpan<float> x, float clip);

    /// <summary>
    /// The parameters minimising Σ wⱼ(xⱼ − x̂ⱼ)² over this codec's candidates (the reference fit and clipped ones).
    /// Formats with a closed form (Q1_0: d = Σwⱼ|xⱼ| / Σwⱼ) override it.
    /// </summary>
    public virtual BlockParams FitWeighted(ReadOnlySpan<float> x, ReadOnlySpan<float> weights)
    {
        var best = Fit(x);
        double bestErr = WeightedError(x, weights, best);
        for (int step = 1; step <= ClipSteps; step++)
        {
            var p = Fit(x, 1f - step * ClipStep);
            double err = WeightedError(x, weights, p);
            if (err < bestErr) (best, bestErr) = (p, err);
        }
        return best;
    }

    /// <summary>Grid of the clip search: 1, 0.99, …, 0.60.</summary>
    public const int ClipSteps = 40;
    public const float ClipStep = 0.01f;

    /// <summary>Σ wⱼ(xⱼ − x̂ⱼ)² of a block coded with <paramref name="p"/>.</summary>
    public double WeightedError(ReadOnlySpan<float> x, ReadOnlySpan<float> weights, in BlockParams p)
    {
        double err = 0;
        for (int j = 0; j < x.Length; j++)
        {
            double e = x[j] - Value(Code(x[j], p), p);
            err += weights[j] * e * e;
        }
        return err;
    }

    /// <summary>The code of one value under <paramref name="p"/> (the format's rounding rule, clamped to its range).</summary>
    public abstract int Code(float x, in BlockParams p);

    /// <summary>The value a code dequantizes to (exactly what the format's dequantizer gives).</summary>
    public abstract float Value(int code, in BlockParams p);

    /// <summary>
    /// The parameters of a block whose only parameter is a given scale (rounded to the stored fp16 here), coded by the
    /// format's own rule with it — what quantization-aware training with a learned scale stores. Null when the format's
    /// block is more than one scale (an offset, sub-scales), which a free scale alone cannot describe.
    /// </summary>
    public virtual BlockParams? FromScale(float scale) => null;

    /// <summary>
    /// The codes' range in units of the scale, −Negative … +Positive (LSQ's Q_N and Q_P): a code's value is
    /// level · scale. Meaningful where <see cref="FromScale"/> is not null.
    /// </summary>
    public virtual (int Negative, int Positive) Levels => (0, 0);

    /// <summary>True when the codes do not depend on the scale (q1_0: the sign), so a learned scale only sets the magnitude.</summary>
    public virtual bool CodesIgnoreScale => false;

    /// <summary>A scale as the block stores it: fp16, clamped to fp16's finite range before the narrowing cast.</summary>
    public static float StoredScale(float scale) => (float)(Half)Math.Clamp(scale, -65504f, 65504f);

    /// <summary>Writes one block (parameters and <see cref="BlockSize"/> codes) in the format's byte layout.</summary>
    public abstract void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block);
}
