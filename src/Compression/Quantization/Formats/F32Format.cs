// f32: plain IEEE single precision, 4 bytes per weight.
using System.Runtime.InteropServices;
using System.Numerics.Tensors;

namespace Compression.Quantization.Formats;

public sealed class F32Format : TensorFormat
{
    public static readonly F32Format Instance = new();
    public override string Name => "f32";
    public override int? GgmlTypeId => 0;
    public override int BlockSize => 1;
    public override int BytesPerBlock => 4;
    public override int NominalBits => 32;
    public override bool IsFloat => true;
    public override string Description => "IEEE float32";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst) =>
        MemoryMarshal.AsBytes(src).CopyTo(dst);

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst) =>
        MemoryMarshal.Cast<byte, float>(src).CopyTo(dst);

    public override float DotRow(ReadOnlySpan<byte> row, ReadOnlySpan<float> x) =>
        TensorPrimitives.Dot(MemoryMarshal.Cast<byte, float>(row), x);

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Compression.Kernels.FloatKernels.GemvF32(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        Compression.Kernels.TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
