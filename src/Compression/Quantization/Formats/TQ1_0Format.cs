// tq1_0: GGUF type 34 — llama.cpp's base-3 ternary: 5 trits per byte (3^5 = 243 ≤ 256), fp16 max-|w| scale (1.6875 bpw).
using System.Runtime.InteropServices;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>
/// ggml's <c>block_tq1_0</c>. A byte holds 5 trits t₀..t₄ (each 0, 1, 2) as the fixed-point fraction
/// <c>⌈(t₀·81 + t₁·27 + t₂·9 + t₃·3 + t₄)·256 / 243⌉</c>, so trit n is read back as the integer part of
/// <c>3·((byte·3ⁿ) mod 256) / 256</c> — a byte multiply and a shift, no division. Weights of a block:
/// 0..159 are trit n of <c>qs[m]</c> at 32n + m (m &lt; 32); 160..239 trit n of <c>qs[32 + m]</c> at 160 + 16n + m
/// (m &lt; 16); 240..255 trit n of <c>qh[j]</c> at 240 + 4n + j (n, j &lt; 4; qh's fifth trit is always 0).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ1_0
{
    public const int Size = 54;
    public fixed byte Qs[48];
    public fixed byte Qh[4];
    public Half D;
}

/// <summary>TQ1_0 exactly as <c>quantize_row_tq1_0_ref</c> / <c>dequantize_row_tq1_0</c>.</summary>
public sealed unsafe class TQ1_0Format : TernaryFormat
{
    public static readonly TQ1_0Format Instance = new();
    public override string Name => "tq1_0";
    public override int? GgmlTypeId => 34;
    public override int BytesPerBlock => BlockTQ1_0.Size;
    public override string Description => "GGUF TQ1_0: ternary {−1, 0, +1} packed 5 per byte, blocks of 256 with an fp16 max-|w| scale (1.6875 bpw)";

    /// <summary>3ⁿ for the trit positions of a byte.</summary>
    internal static ReadOnlySpan<byte> Pow3 => [1, 3, 9, 27, 81, 243];

    /// <summary>As <c>quantize_row_tq1_0_ref</c>: five trits per qs byte, four (then a zero) per qh byte, as fractions.</summary>
    internal override void PackBlock(Half d, ReadOnlySpan<int> codes, Span<byte> block)
    {
        for (int m = 0; m < 32; m++)
        {
            int q = 0;
            for (int n = 0; n < 5; n++) q = q * 3 + codes[m + 32 * n];
            block[m] = Fraction(q);
        }
        for (int m = 0; m < 16; m++)
        {
            int q = 0;
            for (int n = 0; n < 5; n++) q = q * 3 + codes[160 + m + 16 * n];
            block[32 + m] = Fraction(q);
        }
        for (int j = 0; j < 4; j++)
        {
            int q = 0;
            for (int n = 0; n < 4; n++) q = q * 3 + codes[240 + j + 4 * n];
            block[48 + j] = Fraction(q * 3); // the first trit to the most significant place, as in the reference
        }
        MemoryMarshal.Write(block[52..], d);
    }

    /// <summary>⌈q·256/243⌉ for q &lt; 243: five trits as a byte-wide fraction of 1.</summary>
    private static byte Fraction(int q) => (byte)((q * 256 + 242) / 243);

    /// <summary>Trit n of a packed byte: (3·((q·3ⁿ) mod 256)) >> 8.</summary>
    internal static int TritOf(byte q, int n) => 3 * (byte)(q * Pow3[n]) >> 8;

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockTQ1_0>(src);
        for (int b = 0; b < dst.Length / Block; b++)
        {
            ref readonly var blk = ref blocks[b];
            float d = (float)blk.D;
            var y = dst.Slice(b * Block, Block);
            for (int n = 0; n < 5; n++)
                for (int m = 0; m < 32; m++) y[32 * n + m] = (TritOf(blk.Qs[m], n) - 1) * d;
            for (int n = 0; n < 5; n++)
                for (int m = 0; m < 16; m++) y[160 + 16 * n + m] = (TritOf(blk.Qs[32 + m], n) - 1) * d;
            for (int n = 0; n < 4; n++)
                for (int j = 0; j < 4; j++) y[240 + 4 * n + j] = (TritOf(blk.Qh[j], n) - 1) * d;
        }
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        TQ1_0Kernels.Gemv(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
