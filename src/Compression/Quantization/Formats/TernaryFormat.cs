// TernaryFormat: what llama.cpp's ternary types (TQ1_0, TQ2_0) share — super-blocks of 256, d = max |x|, codes −1/0/+1.
namespace Compression.Quantization.Formats;

/// <summary>
/// The BitNet b1.58 / TriLM family as llama.cpp stores it (<c>quantize_row_tq1_0_ref</c>, <c>quantize_row_tq2_0_ref</c>):
/// per block of 256 (QK_K) the scale is the largest magnitude, <c>d = amax</c> (stored as fp16), and each weight
/// becomes <c>lroundf(x·id)</c> with <c>id = d ? 1/d : 0</c> — the unrounded inverse, so the codes match the C code
/// even when fp16 rounding moves d. Only the packing of the trits differs between the two formats.
/// The reference quantizer is that rule (<see cref="QuantizeRowReference"/>) followed by the format's packing
/// (<see cref="PackBlock"/>). Rows must be multiples of 256 long; a policy falls back to its keep-format for other rows, as for q6_k.
/// </summary>
public abstract class TernaryFormat : TensorFormat
{
    /// <summary>Weights per block: ggml's QK_K.</summary>
    public const int Block = 256;

    public sealed override int BlockSize => Block;

    /// <summary>log2 3 ≈ 1.58 bits of information per weight, grouped with the 2-bit formats.</summary>
    public sealed override int NominalBits => 2;

    /// <summary>Q8_K activations, as llama.cpp's ternary dot products use (one float scale per 256).</summary>
    public sealed override int ActivationBlock => Kernels.ActivationQ8K.Block;

    public sealed override string LlamaCppDefaultGap =>
        "llama-quantize stores token_embd as Q4_K for TQ1_0/TQ2_0, a type the workbench does not have; use the pure or default policy";

    /// <summary>The reference's <c>amax = MAX(amax, fabsf(v))</c> over one block, in index order.</summary>
    internal static float AbsMax(ReadOnlySpan<float> x)
    {
        float amax = 0;
        foreach (float v in x) amax = amax > MathF.Abs(v) ? amax : MathF.Abs(v);
        return amax;
    }

    /// <summary>The inverse scale the codes are computed with: 1/amax, or 0 for an all-zero block.</summary>
    internal static float Inverse(float amax) => amax != 0 ? 1f / amax : 0f;

    /// <summary><c>lroundf(x·id) + 1</c>: −1, 0, +1 as 0, 1, 2 (lroundf rounds halves away from zero).</summary>
    internal static int Trit(float x, float id) => (int)MathF.Round(x * id, MidpointRounding.AwayFromZero) + 1;

    /// <summary>The block rule opened into fit + code (see <see cref="Methods.Codecs.TernaryCodec"/>).</summary>
    public sealed override Methods.Codecs.BlockCodec Codec => _codec ??= new Methods.Codecs.TernaryCodec(this);
    private Methods.Codecs.TernaryCodec? _codec;

    /// <summary>Writes one block: scale <paramref name="d"/> and 256 codes 0, 1, 2 (w + 1) in this format's packing.</summary>
    internal abstract void PackBlock(Half d, ReadOnlySpan<int> codes, Span<byte> block);

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<int> codes = stackalloc int[Block];
        for (int b = 0; b < src.Length / Block; b++)
        {
            var x = src.Slice(b * Block, Block);
            float amax = AbsMax(x), id = Inverse(amax);
            for (int j = 0; j < Block; j++) codes[j] = Trit(x[j], id);
            PackBlock((Half)amax, codes, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    public override long RowBytes(long cols)
    {
        if (cols % Block != 0)
            throw new ArgumentException($"{Name}: row length {cols} is not a multiple of 256 (llama.cpp's ternary types use super-blocks of QK_K = 256)");
        return cols / Block * BytesPerBlock;
    }
}
