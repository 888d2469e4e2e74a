// f16: IEEE half precision; float32 -> half rounds to nearest even (System.Half does).
using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Compression.Quantization.Formats;

public sealed class F16Format : TensorFormat
{
    public static readonly F16Format Instance = new();
    public override string Name => "f16";
    public override int? GgmlTypeId => 1;
    public override int BlockSize => 1;
    public override int BytesPerBlock => 2;
    public override int NominalBits => 16;
    public override bool IsFloat => true;
    public override string Description => "IEEE float16 (baseline)";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        var h = MemoryMarshal.Cast<byte, Half>(dst);
        for (int i = 0; i < src.Length; i++) h[i] = (Half)src[i];
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        var h = MemoryMarshal.Cast<byte, Half>(src);
        for (int i = 0; i < dst.Length; i++) dst[i] = (float)h[i];
    }

    public override void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst) =>
        TensorPrimitives.ConvertToHalf(src, MemoryMarshal.Cast<byte, Half>(dst));

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst) =>
        TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(src)[..dst.Length], dst);

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Compression.Kernels.FloatKernels.GemvF16(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        Compression.Kernels.TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
