// tq2_0: GGUF type 35 — llama.cpp's 2-bit ternary: 256 codes of 2 bits with one fp16 scale = max |w| (2.0625 bpw).
using System.Runtime.InteropServices;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>
/// ggml's <c>block_tq2_0</c>: byte <c>qs[32c + m]</c> holds, in bit pairs 2l..2l+1, the code of weight
/// <c>128c + 32l + m</c> (c = 0, 1; l = 0..3); w = (q − 1)·d.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockTQ2_0
{
    public const int Size = 66;
    public fixed byte Qs[64];
    public Half D;
}

/// <summary>TQ2_0 exactly as <c>quantize_row_tq2_0_ref</c> / <c>dequantize_row_tq2_0</c>.</summary>
public sealed unsafe class TQ2_0Format : TernaryFormat
{
    public static readonly TQ2_0Format Instance = new();
    public override string Name => "tq2_0";
    public override int? GgmlTypeId => 35;
    public override int BytesPerBlock => BlockTQ2_0.Size;
    public override string Description => "GGUF TQ2_0: ternary {−1, 0, +1} in 2 bits, blocks of 256 with an fp16 max-|w| scale (2.0625 bpw)";

    /// <summary>As <c>quantize_row_tq2_0_ref</c>: <c>qs[32c + m] = Σ_l (q[128c + 32l + m] &amp; 3) &lt;&lt; 2l</c>.</summary>
    internal override void PackBlock(Half d, ReadOnlySpan<int> codes, Span<byte> block)
    {
        for (int c = 0; c < 2; c++)
            for (int m = 0; m < 32; m++)
            {
                int q = 0;
                for (int l = 0; l < 4; l++) q += (codes[128 * c + 32 * l + m] & 3) << (2 * l);
                block[32 * c + m] = (byte)q;
            }
        MemoryMarshal.Write(block[64..], d);
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockTQ2_0>(src);
        for (int b = 0; b < dst.Length / Block; b++)
        {
            float d = (float)blocks[b].D;
            var y = dst.Slice(b * Block, Block);
            for (int c = 0; c < 2; c++)
                for (int l = 0; l < 4; l++)
                    for (int m = 0; m < 32; m++)
                        y[128 * c + 32 * l + m] = (((blocks[b].Qs[32 * c + m] >> (2 * l)) & 3) - 1) * d;
        }
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        TQ2_0Kernels.Gemv(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
