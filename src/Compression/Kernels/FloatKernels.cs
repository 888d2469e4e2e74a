// FloatKernels: decode GEMV row dots for f32, f16 and bf16 weights (float activations, FMA).
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>Row dots for the plain float formats; 16-bit values are widened in registers, never copied out.</summary>
public static unsafe class FloatKernels
{
    public static void GemvF32(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, &DotF32);

    public static void GemvF16(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, &DotF16);

    public static void GemvBF16(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, &DotBF16);

    internal static float DotF32(byte* row, GemvContext* c) => TiledGemm.Dot((float*)row, c->X, c->Cols);

    internal static float DotF16(byte* row, GemvContext* c) => DotHalfLike(row, c, bf16: false);

    internal static float DotBF16(byte* row, GemvContext* c) => DotHalfLike(row, c, bf16: true);

    private static float DotHalfLike(byte* row, GemvContext* c, bool bf16)
    {
        var w = (ushort*)row;
        float* x = c->X;
        int n = c->Cols, k = 0;
        float s = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> s0 = default, s1 = default;
            for (; k + 16 <= n; k += 16)
            {
                var w0 = bf16 ? HalfConvert.LoadBf16x8(w + k) : HalfConvert.Load8(w + k);
                var w1 = bf16 ? HalfConvert.LoadBf16x8(w + k + 8) : HalfConvert.Load8(w + k + 8);
                if (Fma.IsSupported)
                {
                    s0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(x + k), s0);
                    s1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(x + k + 8), s1);
                }
                else
                {
                    s0 += w0 * Vector256.Load(x + k);
                    s1 += w1 * Vector256.Load(x + k + 8);
                }
            }
            s = Vector256.Sum(s0 + s1);
        }
        for (; k < n; k++) s += (bf16 ? HalfConvert.Bf16ToFloat(w[k]) : HalfConvert.ToFloat(w[k])) * x[k];
        return s;
    }
}
