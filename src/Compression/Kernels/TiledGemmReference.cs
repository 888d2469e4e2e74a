// TiledGemmReference: the prefill GEMM as first written (16-row tiles, a 4×2 AVX2 register block) — the bits the fast path must reproduce.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>
/// The summation order every prefill output has had since the committed evaluation results were computed,
/// kept as the reference that <see cref="TiledGemm"/>'s blocked kernels are tested against bit for bit,
/// and run as its <see cref="IsaLevel.Scalar"/> path (and on CPUs without FMA, where it is all there is).
/// With FMA, an output (t, r) with t &lt; n − n % 4 and r not the odd last row is a single 8-lane accumulator
/// over k in steps of 8 (<see cref="Block4x2"/>), then <see cref="IntDot.HSum(Vector256{float})"/>, then the
/// scalar tail added one product at a time; every other output is <see cref="Dot"/>
/// (four accumulators over steps of 32).
/// </summary>
public static unsafe class TiledGemmReference
{
    /// <summary>Weight rows per tile of the original kernel (the tile size does not change any output).</summary>
    public const int TileRows = 16;

    /// <summary>Y = X·Wᵀ, single-threaded, exactly as the original kernel computed it. Y is (n, rows) row-major.</summary>
    public static void Run(TensorFormat format, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        long rb = format.RowBytes(cols);
        GemvDriver.Check(format.Name, packed, rows, cols, rb, x, n, y);
        if (n == 0 || rows == 0) return;
        var buf = new float[TileRows * cols];
        fixed (byte* pw = packed)
        fixed (float* px = x, py = y, pb = buf)
        {
            for (int r0 = 0; r0 < rows; r0 += TileRows)
            {
                int tr = Math.Min(TileRows, rows - r0);
                for (int i = 0; i < tr; i++)
                    format.DequantizeRow(new ReadOnlySpan<byte>(pw + (r0 + i) * rb, (int)rb), new Span<float>(pb + i * cols, cols));
                MultiplyTile(px, n, pb, tr, cols, py + r0, rows);
            }
        }
    }

    /// <summary>y[i·ldy + j] = Σ_k x[i·cols + k]·w[j·cols + k] for i &lt; n, j &lt; m.</summary>
    internal static void MultiplyTile(float* x, int n, float* w, int m, int cols, float* y, int ldy)
    {
        int i = 0;
        if (Fma.IsSupported)
        {
            for (; i + 4 <= n; i += 4)
            {
                int j = 0;
                for (; j + 2 <= m; j += 2) Block4x2(x + i * cols, w + j * cols, cols, y + i * ldy + j, ldy);
                for (; j < m; j++)
                    for (int ii = 0; ii < 4; ii++) y[(i + ii) * ldy + j] = Dot(x + (i + ii) * cols, w + j * cols, cols);
            }
        }
        for (; i < n; i++)
            for (int j = 0; j < m; j++) y[i * ldy + j] = Dot(x + i * cols, w + j * cols, cols);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2(float* x, float* w, int cols, float* y, int ldy)
    {
        float* x0 = x, x1 = x + cols, x2 = x + 2 * cols, x3 = x + 3 * cols;
        float* w0 = w, w1 = w + cols;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default,
                         a20 = default, a21 = default, a30 = default, a31 = default;
        int k = 0;
        for (; k + 8 <= cols; k += 8)
        {
            var v0 = Avx.LoadVector256(w0 + k); var v1 = Avx.LoadVector256(w1 + k);
            var u = Avx.LoadVector256(x0 + k); a00 = Fma.MultiplyAdd(u, v0, a00); a01 = Fma.MultiplyAdd(u, v1, a01);
            u = Avx.LoadVector256(x1 + k); a10 = Fma.MultiplyAdd(u, v0, a10); a11 = Fma.MultiplyAdd(u, v1, a11);
            u = Avx.LoadVector256(x2 + k); a20 = Fma.MultiplyAdd(u, v0, a20); a21 = Fma.MultiplyAdd(u, v1, a21);
            u = Avx.LoadVector256(x3 + k); a30 = Fma.MultiplyAdd(u, v0, a30); a31 = Fma.MultiplyAdd(u, v1, a31);
        }
        float t00 = IntDot.HSum(a00), t01 = IntDot.HSum(a01), t10 = IntDot.HSum(a10), t11 = IntDot.HSum(a11),
              t20 = IntDot.HSum(a20), t21 = IntDot.HSum(a21), t30 = IntDot.HSum(a30), t31 = IntDot.HSum(a31);
        for (; k < cols; k++)
        {
            t00 += x0[k] * w0[k]; t01 += x0[k] * w1[k]; t10 += x1[k] * w0[k]; t11 += x1[k] * w1[k];
            t20 += x2[k] * w0[k]; t21 += x2[k] * w1[k]; t30 += x3[k] * w0[k]; t31 += x3[k] * w1[k];
        }
        y[0] = t00; y[1] = t01; y[ldy] = t10; y[ldy + 1] = t11;
        y[2 * ldy] = t20; y[2 * ldy + 1] = t21; y[3 * ldy] = t30; y[3 * ldy + 1] = t31;
    }

    /// <summary>Float dot product: FMA with four accumulators, a Vector256 path, then a scalar tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(float* a, float* b, int n)
    {
        int k = 0;
        float s = 0;
        if (Fma.IsSupported)
        {
            Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
            for (; k + 32 <= n; k += 32)
            {
                s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + k), Avx.LoadVector256(b + k), s0);
                s1 = Fma.MultiplyAdd(Avx.LoadVector256(a + k + 8), Avx.LoadVector256(b + k + 8), s1);
                s2 = Fma.MultiplyAdd(Avx.LoadVector256(a + k + 16), Avx.LoadVector256(b + k + 16), s2);
                s3 = Fma.MultiplyAdd(Avx.LoadVector256(a + k + 24), Avx.LoadVector256(b + k + 24), s3);
            }
            for (; k + 8 <= n; k += 8) s0 = Fma.MultiplyAdd(Avx.LoadVector256(a + k), Avx.LoadVector256(b + k), s0);
            s = IntDot.HSum(Avx.Add(Avx.Add(s0, s1), Avx.Add(s2, s3)));
        }
        else if (Vector256.IsHardwareAccelerated)
        {
            var s0 = Vector256<float>.Zero;
            for (; k + 8 <= n; k += 8) s0 += Vector256.Load(a + k) * Vector256.Load(b + k);
            s = Vector256.Sum(s0);
        }
        for (; k < n; k++) s += a[k] * b[k];
        return s;
    }
}
