// q1_0: GGUF type 41 (PrismML Bonsai) — 128 sign bits with one fp16 scale = mean |w| (1.125 bpw).
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>Bonsai's <c>block_q1_0</c>: bit j = (qs[j/8] >> (j%8)) &amp; 1; w = bit ? +d : −d.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ1_0
{
    public const int Size = 18;
    public Half D;
    public fixed byte Qs[16];
}

/// <summary>
/// Q1_0: <c>d</c> = (float32 sum of |x| taken sequentially in index order) / 128, bit set when x ≥ 0.
/// The sum must be sequential: a pairwise or SIMD sum changes a rounded fp16 scale now and then, and
/// the blocks would no longer match llama-quantize byte for byte.
/// </summary>
public sealed unsafe class Q1_0Format : TensorFormat
{
    public static readonly Q1_0Format Instance = new();
    public override string Name => "q1_0";
    public override int? GgmlTypeId => 41;
    public override int BlockSize => 128;
    public override Methods.Codecs.BlockCodec Codec => Methods.Codecs.Q1_0Codec.Instance;
    public override int BytesPerBlock => BlockQ1_0.Size;
    public override int NominalBits => 1;
    public override string Description => "Q1_0 (Bonsai): sign bits in groups of 128, fp16 mean-|w| scale (1.125 bpw)";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ1_0>(dst);
        for (int b = 0; b < src.Length / 128; b++)
        {
            var x = src.Slice(b * 128, 128);
            float sum = 0;
            for (int j = 0; j < 128; j++) sum += MathF.Abs(x[j]);
            ref var blk = ref blocks[b];
            blk.D = (Half)(sum / 128f);
            for (int k = 0; k < 16; k++)
            {
                int bits = 0;
                for (int j = 0; j < 8; j++) if (x[8 * k + j] >= 0) bits |= 1 << j;
                blk.Qs[k] = (byte)bits;
            }
        }
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var blocks = MemoryMarshal.Cast<byte, BlockQ1_0>(src);
        for (int b = 0; b < dst.Length / 128; b++)
        {
            float d = (float)blocks[b].D;
            for (int j = 0; j < 128; j++) dst[b * 128 + j] = ((blocks[b].Qs[j / 8] >> (j % 8)) & 1) != 0 ? d : -d;
        }
    }

    public override void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!Avx.IsSupported) { QuantizeRowReference(src, dst); return; }
        if (src.Length % 128 != 0 || dst.Length < RowBytes(src.Length))
            throw new ArgumentException($"{Name}: row of {src.Length} values does not fit {dst.Length} bytes");
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            for (int b = 0; b < src.Length / 128; b++)
            {
                float* x = px + b * 128;
                var blk = (BlockQ1_0*)(py + b * BlockQ1_0.Size);
                // The scale keeps the sequential sum (see the class remarks); only the sign bits are vectorised.
                float sum = 0;
                for (int j = 0; j < 128; j++) sum += MathF.Abs(x[j]);
                blk->D = (Half)(sum / 128f);
                for (int k = 0; k < 16; k++)
                {
                    // x ≥ 0 is "not (x < 0)" for ordinary values; −0 counts as ≥ 0, as in C; NaN is not ≥ 0.
                    var ge = Avx.CompareGreaterThanOrEqual(Avx.LoadVector256(x + 8 * k), Vector256<float>.Zero);
                    blk->Qs[k] = (byte)Avx.MoveMask(ge);
                }
            }
        }
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Avx2.IsSupported) { DequantizeRowReference(src, dst); return; }
        if (dst.Length % 128 != 0 || src.Length < RowBytes(dst.Length))
            throw new ArgumentException($"{Name}: row of {dst.Length} values does not fit {src.Length} bytes");
        var bit = Vector256.Create(1, 2, 4, 8, 16, 32, 64, 128);
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            for (int b = 0; b < dst.Length / 128; b++)
            {
                var blk = (BlockQ1_0*)(ps + b * BlockQ1_0.Size);
                float d = (float)blk->D;
                var pos = Vector256.Create(d);
                var neg = Vector256.Create(-d);
                for (int k = 0; k < 16; k++)
                {
                    var set = Avx2.CompareEqual(Avx2.And(Vector256.Create((int)blk->Qs[k]), bit), bit);
                    Avx.Store(pd + b * 128 + 8 * k, Avx.BlendVariable(neg, pos, set.AsSingle()));
                }
            }
        }
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q1_0Kernels.Gemv(this, packed, null, rows, cols, x, y);

    /// <summary>The sixteen-row groups, each as the sixteen-row kernel reads it (<see cref="Q1_0Kernels.WriteLayout"/>).</summary>
    public override long DecodeLayoutBytes(int rows, int cols) => Q1_0Kernels.LayoutBytes(rows, RowBytes(cols));

    public override bool HasDecodeLayout => true;

    public override unsafe void WriteDecodeLayout(byte* packed, int rows, int cols, byte* layout) =>
        Q1_0Kernels.WriteLayout(packed, rows, cols, layout);

    public override unsafe void Gemv(ReadOnlySpan<byte> packed, byte* layout, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Q1_0Kernels.Gemv(this, packed, layout, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
