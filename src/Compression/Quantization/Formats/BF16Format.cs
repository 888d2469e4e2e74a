// bf16: the top 16 bits of float32; float32 -> bf16 rounds to nearest even, NaN stays NaN.
using System.Runtime.InteropServices;

namespace Compression.Quantization.Formats;

public sealed class BF16Format : TensorFormat
{
    public static readonly BF16Format Instance = new();
    public override string Name => "bf16";
    public override int? GgmlTypeId => 30;
    public override int BlockSize => 1;
    public override int BytesPerBlock => 2;
    public override int NominalBits => 16;
    public override bool IsFloat => true;
    public override string Description => "bfloat16 (baseline)";

    /// <summary>float32 → bf16 bits, round to nearest even (as PyTorch and ggml do).</summary>
    public static ushort FromFloat(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 0x40); // quiet NaN
        u += 0x7fff + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }

    public static float ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var h = MemoryMarshal.Cast<byte, ushort>(dst);
        for (int i = 0; i < src.Length; i++) h[i] = FromFloat(src[i]);
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var h = MemoryMarshal.Cast<byte, ushort>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = ToFloat(h[i]);
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Compression.Kernels.FloatKernels.GemvBF16(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        Compression.Kernels.TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
