// ActivationQ8K: activations quantized on the fly to llama.cpp's Q8_K blocks of 256, the pairing of its ternary types.
namespace Compression.Kernels;

/// <summary>
/// x quantized as <c>quantize_row_q8_K_ref</c> (what x86 llama.cpp runs for Q8_K): per block of 256, <c>max</c> = the
/// value of largest magnitude (the first, with its sign), <c>iscale = −127/max</c>, <c>q = min(127, nearest_int(iscale·x))</c>
/// (round half to even), <c>d = 1/iscale</c> kept as a float (no fp16 rounding; d is negative when max is positive, the
/// codes flipped with it). An all-zero block has d = 0 and codes 0. Also keeps Σq per block. Per-thread scratch.
/// </summary>
public readonly unsafe struct ActivationQ8K
{
    public const int Block = 256;
    /// <summary>cols int8 codes.</summary>
    public readonly sbyte* Q;
    /// <summary>cols/256 block scales.</summary>
    public readonly float* D;
    /// <summary>cols/256 code sums Σq (the offset term of codes stored as w + 1).</summary>
    public readonly int* Sum;
    public readonly int Cols;

    private ActivationQ8K(sbyte* q, float* d, int* sum, int cols) { Q = q; D = d; Sum = sum; Cols = cols; }

    /// <summary>Quantizes <paramref name="x"/> (length a multiple of 256) into this thread's scratch slot 2.</summary>
    public static ActivationQ8K Quantize(ReadOnlySpan<float> x)
    {
        int cols = x.Length;
        if (cols % Block != 0) throw new ArgumentException($"activation length {cols} is not a multiple of {Block}");
        int nb = cols / Block;
        byte* mem = Scratch.Get(2, (nuint)(cols + 8 * nb));
        var act = new ActivationQ8K((sbyte*)(mem + 8 * nb), (float*)mem, (int*)(mem + 4 * nb), cols);
        for (int b = 0; b < nb; b++) QuantizeBlock(x.Slice(b * Block, Block), act.Q + b * Block, out act.D[b], out act.Sum[b]);
        return act;
    }

    private static void QuantizeBlock(ReadOnlySpan<float> x, sbyte* q, out float d, out int sum)
    {
        float max = 0, amax = 0;
        for (int j = 0; j < Block; j++)
        {
            float ax = MathF.Abs(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        sum = 0;
        if (amax == 0)
        {
            d = 0;
            new Span<sbyte>(q, Block).Clear();
            return;
        }
        float iscale = -127f / max;
        for (int j = 0; j < Block; j++)
        {
            int v = Math.Min(127, (int)MathF.Round(iscale * x[j], MidpointRounding.ToEven)); // nearest_int
            q[j] = (sbyte)v;
            sum += v;
        }
        d = 1 / iscale;
    }
}
