// FloatKernels: decode GEMV row dots for f32, f16 and bf16 weights (float activations, FMA).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>
/// Row dots for the plain float formats; 16-bit values are widened in registers, never copied out.
/// The SIMD paths share one accumulation order: 32-element stripes, element k of a stripe into
/// partial sum s[k / 8] (8 lanes each), then HSum((s0 + s2) + (s1 + s3)), then the tail of fewer
/// than 32 elements added one by one — so AVX2 (four 256-bit sums) and AVX-512 (two 512-bit sums
/// holding (s0, s1) and (s2, s3)) give bit-identical results.
/// </summary>
public static unsafe class FloatKernels
{
    private enum Kind { F32, F16, BF16 }

    public static void GemvF32(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, PickF32(KernelIsa.Current));

    public static void GemvF16(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, PickF16(KernelIsa.Current),
            prepare: PickF16Prepare(KernelIsa.Current));

    /// <summary>
    /// Where subnormal operands cost nothing, f16 stripes are read as 2^-112 times their value (two integer ops per 16
    /// weights instead of nine, <see cref="HalfConvert.Load32Scaled"/>) against x·2^112: the same products, so the same
    /// FMAs and the same bits. The exact conversion kept one core at ~27 GB/s on cached weights (48.6 this way), below
    /// half of a fast moment's bandwidth on this VM. Tests force it on or off (<see cref="HalfConvert.ScaledReads"/>).
    /// </summary>
    internal static delegate*<GemvContext*, void> PickF16Prepare(IsaLevel level) =>
        level < IsaLevel.Avx2 || !(HalfConvert.ScaledReads ?? HalfConvert.SubnormalOperandsAreFree) ? null
        : level == IsaLevel.Avx512 ? &PrepareF16Avx512 : &PrepareF16Avx2;

    private static void PrepareF16Avx512(GemvContext* c) { if (ScaleX(c)) c->Dot = &DotF16Avx512Scaled; }
    private static void PrepareF16Avx2(GemvContext* c) { if (ScaleX(c)) c->Dot = &DotF16Avx2Scaled; }

    /// <summary>
    /// x·2^112 into this thread's scratch slot 4, when every |x| &lt; 2^16 so that each is exact and finite (a NaN or a
    /// larger value keeps the exact conversion, which needs no scaling).
    /// </summary>
    private static bool ScaleX(GemvContext* c)
    {
        int n = c->Cols, k = 0;
        float* x = c->X, xs = (float*)Scratch.Get(4, (nuint)n * sizeof(float));
        var limit = Vector256.Create(65536f);
        var unit = Vector256.Create(HalfConvert.ScaledUnit);
        for (; k + 8 <= n; k += 8)
        {
            var v = Vector256.Load(x + k);
            if (!Vector256.LessThanAll(Vector256.Abs(v), limit)) return false;
            (v * unit).Store(xs + k);
        }
        for (; k < n; k++)
        {
            if (!(MathF.Abs(x[k]) < 65536f)) return false;
            xs[k] = x[k] * HalfConvert.ScaledUnit;
        }
        c->XScaled = xs;
        return true;
    }

    public static void GemvBF16(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: false, 0, PickBF16(KernelIsa.Current));

    internal static delegate*<byte*, GemvContext*, float> PickF32(IsaLevel level) =>
        level == IsaLevel.Avx512 ? &DotF32Avx512 : level == IsaLevel.Avx2 ? &DotF32Avx2 : &DotF32Scalar;

    internal static delegate*<byte*, GemvContext*, float> PickF16(IsaLevel level) =>
        level == IsaLevel.Avx512 ? &DotF16Avx512 : level == IsaLevel.Avx2 ? &DotF16Avx2 : &DotF16Scalar;

    internal static delegate*<byte*, GemvContext*, float> PickBF16(IsaLevel level) =>
        level == IsaLevel.Avx512 ? &DotBF16Avx512 : level == IsaLevel.Avx2 ? &DotBF16Avx2 : &DotBF16Scalar;

    internal static float DotF32Avx2(byte* row, GemvContext* c) => DotAvx2(row, c, Kind.F32);
    internal static float DotF16Avx2(byte* row, GemvContext* c) => DotAvx2(row, c, Kind.F16);
    internal static float DotBF16Avx2(byte* row, GemvContext* c) => DotAvx2(row, c, Kind.BF16);
    internal static float DotF32Avx512(byte* row, GemvContext* c) => DotAvx512(row, c, Kind.F32);
    internal static float DotF16Avx512(byte* row, GemvContext* c) => DotAvx512(row, c, Kind.F16);
    internal static float DotBF16Avx512(byte* row, GemvContext* c) => DotAvx512(row, c, Kind.BF16);
    private static float DotF16Avx2Scaled(byte* row, GemvContext* c) => DotAvx2(row, c, Kind.F16, scaled: true);
    private static float DotF16Avx512Scaled(byte* row, GemvContext* c) => DotAvx512(row, c, Kind.F16, scaled: true);
    private static float DotF16Avx2Specials(byte* row, GemvContext* c) => DotAvx2(row, c, Kind.F16, specials: true);
    private static float DotF16Avx512Specials(byte* row, GemvContext* c) => DotAvx512(row, c, Kind.F16, specials: true);
    internal static float DotF32Scalar(byte* row, GemvContext* c) => DotScalar(row, c, Kind.F32);
    internal static float DotF16Scalar(byte* row, GemvContext* c) => DotScalar(row, c, Kind.F16);
    internal static float DotBF16Scalar(byte* row, GemvContext* c) => DotScalar(row, c, Kind.BF16);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load8(byte* row, int k, Kind kind) => kind switch
    {
        Kind.F32 => Avx.LoadVector256((float*)row + k),
        Kind.F16 => HalfConvert.Load8((ushort*)row + k),
        _ => HalfConvert.LoadBf16x8((ushort*)row + k),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load16(byte* row, int k, Kind kind) => kind switch
    {
        Kind.F32 => Vector512.Load((float*)row + k),
        Kind.F16 => HalfConvert.Load16((ushort*)row + k),
        _ => HalfConvert.LoadBf16x16((ushort*)row + k),
    };

    /// <summary>Prefetches the lines of the 32 values at k one stripe of rows ahead (<see cref="GemvContext.Ahead"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch(byte* row, int k, long ahead, Kind kind)
    {
        if (kind == Kind.F32)
        {
            KernelPrefetch.Line(row + 4L * k + ahead);
            KernelPrefetch.Line(row + 4L * k + 64 + ahead);
        }
        else KernelPrefetch.Line(row + 2L * k + ahead);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar(byte* row, int k, Kind kind) => kind switch
    {
        Kind.F32 => ((float*)row)[k],
        Kind.F16 => HalfConvert.ToFloat(((ushort*)row)[k]),
        _ => HalfConvert.Bf16ToFloat(((ushort*)row)[k]),
    };

    /// <remarks>f16 as in <see cref="DotAvx512"/>: branch-free finite loads, a running maximum of |h|, and the row
    /// again through the general loads if it holds an Inf or NaN.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotAvx2(byte* row, GemvContext* c, Kind kind, bool specials = false, bool scaled = false)
    {
        float* x = c->X;
        float* xw = scaled ? c->XScaled : x; // what the stripes' weights multiply
        int n = c->Cols, k = 0;
        long ahead = c->Ahead;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        if (kind == Kind.F16)
        {
            var top = Vector256<ushort>.Zero;
            for (; k + 32 <= n; k += 32)
            {
                Vector256<float> w0, w1, w2, w3;
                if (specials)
                {
                    HalfConvert.Load16Pair((ushort*)row + k, out w0, out w1);
                    HalfConvert.Load16Pair((ushort*)row + k + 16, out w2, out w3);
                }
                else
                {
                    Prefetch(row, k, ahead, kind);
                    top = Vector256.Max(top, Vector256.Max(Vector256.Load((ushort*)row + k) << 1, Vector256.Load((ushort*)row + k + 16) << 1)); // |h|, doubled
                    if (scaled)
                    {
                        HalfConvert.Load16PairScaled((ushort*)row + k, out w0, out w1);
                        HalfConvert.Load16PairScaled((ushort*)row + k + 16, out w2, out w3);
                    }
                    else
                    {
                        HalfConvert.Load16PairFinite((ushort*)row + k, out w0, out w1);
                        HalfConvert.Load16PairFinite((ushort*)row + k + 16, out w2, out w3);
                    }
                }
                s0 = Fma.MultiplyAdd(w0, Avx.LoadVector256(xw + k), s0);
                s1 = Fma.MultiplyAdd(w1, Avx.LoadVector256(xw + k + 8), s1);
                s2 = Fma.MultiplyAdd(w2, Avx.LoadVector256(xw + k + 16), s2);
                s3 = Fma.MultiplyAdd(w3, Avx.LoadVector256(xw + k + 24), s3);
            }
            if (!specials && Vector256.GreaterThanOrEqualAny(top, Vector256.Create((ushort)(0x7c00 << 1)))) return DotF16Avx2Specials(row, c);
        }
        for (; k + 32 <= n; k += 32)
        {
            Prefetch(row, k, ahead, kind);
            s0 = Fma.MultiplyAdd(Load8(row, k, kind), Avx.LoadVector256(x + k), s0);
            s1 = Fma.MultiplyAdd(Load8(row, k + 8, kind), Avx.LoadVector256(x + k + 8), s1);
            s2 = Fma.MultiplyAdd(Load8(row, k + 16, kind), Avx.LoadVector256(x + k + 16), s2);
            s3 = Fma.MultiplyAdd(Load8(row, k + 24, kind), Avx.LoadVector256(x + k + 24), s3);
        }
        float s = IntDot.HSum(Avx.Add(Avx.Add(s0, s2), Avx.Add(s1, s3)));
        for (; k < n; k++) s += Scalar(row, k, kind) * x[k];
        return s;
    }

    /// <remarks>f16 stripes go through <see cref="HalfConvert.Load32Finite"/>, which has no data-dependent branch but
    /// reads Inf and NaN as finite numbers; a running maximum of |h| finds them, and a row that holds one is done again
    /// with <see cref="HalfConvert.Load32"/> (<paramref name="specials"/>) — the same order, so the same bits.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotAvx512(byte* row, GemvContext* c, Kind kind, bool specials = false, bool scaled = false)
    {
        float* x = c->X;
        float* xw = scaled ? c->XScaled : x; // what the stripes' weights multiply
        int n = c->Cols, k = 0;
        long ahead = c->Ahead;
        Vector512<float> a = default, b = default;
        if (kind == Kind.F16)
        {
            var top = Vector512<ushort>.Zero;
            for (; k + 32 <= n; k += 32)
            {
                Vector512<float> w0, w1;
                if (specials) HalfConvert.Load32((ushort*)row + k, out w0, out w1);
                else
                {
                    Prefetch(row, k, ahead, kind);
                    top = Vector512.Max(top, Vector512.Load((ushort*)row + k) & Vector512.Create((ushort)0x7fff));
                    if (scaled) HalfConvert.Load32Scaled((ushort*)row + k, out w0, out w1);
                    else HalfConvert.Load32Finite((ushort*)row + k, out w0, out w1);
                }
                a = Avx512F.FusedMultiplyAdd(w0, Vector512.Load(xw + k), a);
                b = Avx512F.FusedMultiplyAdd(w1, Vector512.Load(xw + k + 16), b);
            }
            if (!specials && Vector512.GreaterThanOrEqualAny(top, Vector512.Create((ushort)0x7c00))) return DotF16Avx512Specials(row, c);
        }
        for (; k + 32 <= n; k += 32)
        {
            Prefetch(row, k, ahead, kind);
            a = Avx512F.FusedMultiplyAdd(Load16(row, k, kind), Vector512.Load(x + k), a);
            b = Avx512F.FusedMultiplyAdd(Load16(row, k + 16, kind), Vector512.Load(x + k + 16), b);
        }
        float s = IntDot.HSum(Avx512F.Add(a, b));
        for (; k < n; k++) s += Scalar(row, k, kind) * x[k];
        return s;
    }

    private static float DotScalar(byte* row, GemvContext* c, Kind kind)
    {
        float s = 0;
        for (int k = 0; k < c->Cols; k++) s += Scalar(row, k, kind) * c->X[k];
        return s;
    }
}
