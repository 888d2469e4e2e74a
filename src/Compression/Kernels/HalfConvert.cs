// HalfConvert: exact fp16 -> fp32 conversion for kernels (table for scalars, integer SIMD for vectors).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// .NET exposes no F16C intrinsics, so half→float is done the way ggml does without F16C: a 65536-entry
/// table for scalar block scales (256 KiB, stays in L2), and bit recipes for vectors: the kernels' wide loads
/// (<see cref="Load32Finite"/>, <see cref="Load16PairFinite"/>) rebias normals with an integer add and convert zeros
/// and subnormals under a mask, with no branch; the general recipe (<see cref="ToFloat(Vector256{uint})"/>) also
/// handles Inf and NaN. All equal <c>(float)(Half)bits</c> bit for bit.
/// </summary>
public static unsafe class HalfConvert
{
    private static readonly float[] Table = BuildTable();

    private static float[] BuildTable()
    {
        var t = GC.AllocateArray<float>(65536, pinned: true);
        for (int i = 0; i < 65536; i++) t[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return t;
    }

    /// <summary>The table's first entry: <c>TablePtr[h]</c> is fp16 <c>h</c> as a float. The array is pinned, so the pointer
    /// stays valid; kernels broadcast block scales straight from it (a load, no shuffle).</summary>
    public static readonly float* TablePtr = (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref Table[0]);

    /// <summary>fp16 bits to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToFloat(ushort h) => Unsafe.Add(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(Table), h);

    /// <summary>float to fp16 bits, round to nearest even (as ggml's GGML_FP32_TO_FP16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort FromFloat(float f) => BitConverter.HalfToUInt16Bits((Half)f);

    /// <summary>float rounded through fp16 and back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float RoundToHalf(float f) => ToFloat(FromFloat(f));

    /// <summary>Eight fp16 values (as 32-bit lanes holding the 16 bits) to floats, exactly.</summary>
    /// <remarks>Normals rebias the exponent with an integer add; zeros and subnormals (m·2^-24) are
    /// (0.5 + m·2^-24) − 0.5 built from bits, as ggml does — no float op ever sees a denormal, which
    /// would cost a ~100-cycle microcode assist; Inf/NaN keep an all-ones exponent.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> ToFloat(Vector256<uint> h)
    {
        var em = h & Vector256.Create(0x7fffu);
        var normal = (em << 13) + Vector256.Create(112u << 23);
        var sub = (Vector256.AsSingle(em | Vector256.Create(0x3f000000u)) - Vector256.Create(0.5f)).AsUInt32();
        var special = (em << 13) | Vector256.Create(0x7f800000u);
        var r = Vector256.ConditionalSelect(Vector256.LessThan(em, Vector256.Create(0x400u)), sub, normal);
        r = Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(em, Vector256.Create(0x7c00u)), special, r);
        return Vector256.AsSingle(r | ((h & Vector256.Create(0x8000u)) << 16));
    }

    /// <summary>Eight consecutive fp16 values at <paramref name="p"/> to floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load8(ushort* p)
    {
        if (Avx2.IsSupported)
        {
            // Fast path for normal values: sign-extend, move exponent+mantissa into place (the sign
            // lands on bit 31) and rebias the exponent by 112 with an integer add. A vector with a
            // zero, subnormal, Inf or NaN lane takes the full recipe.
            var hs = Avx2.ConvertToVector256Int32((short*)p);
            var e = hs & Vector256.Create(0x7c00);
            if (Vector256.EqualsAny(e, Vector256<int>.Zero) || Vector256.EqualsAny(e, Vector256.Create(0x7c00)))
                return ToFloat((hs & Vector256.Create(0xffff)).AsUInt32());
            return (((hs << 13) & Vector256.Create(unchecked((int)0x8fffe000))) + Vector256.Create(112 << 23)).AsSingle();
        }
        return ToFloat(Vector256.WidenLower(Vector256.Create(Vector128.Load(p), Vector128<ushort>.Zero)));
    }

    /// <summary>Eight consecutive bf16 values at <paramref name="p"/> to floats (bf16 is the top half of a float).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> LoadBf16x8(ushort* p)
    {
        if (Avx2.IsSupported) return (Avx2.ConvertToVector256Int32(p).AsUInt32() << 16).AsSingle();
        return (Vector256.WidenLower(Vector256.Create(Vector128.Load(p), Vector128<ushort>.Zero)) << 16).AsSingle();
    }

    /// <summary>bf16 bits to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Bf16ToFloat(ushort b) => BitConverter.UInt32BitsToSingle((uint)b << 16);

    /// <summary>Sixteen fp16 values (as 32-bit lanes holding the 16 bits) to floats, exactly (the 8-lane recipe).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> ToFloat(Vector512<uint> h)
    {
        var em = h & Vector512.Create(0x7fffu);
        var normal = (em << 13) + Vector512.Create(112u << 23);
        var sub = (Vector512.AsSingle(em | Vector512.Create(0x3f000000u)) - Vector512.Create(0.5f)).AsUInt32();
        var special = (em << 13) | Vector512.Create(0x7f800000u);
        var r = Vector512.ConditionalSelect(Vector512.LessThan(em, Vector512.Create(0x400u)), sub, normal);
        r = Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(em, Vector512.Create(0x7c00u)), special, r);
        return Vector512.AsSingle(r | ((h & Vector512.Create(0x8000u)) << 16));
    }

    /// <summary>Sixteen consecutive fp16 values at <paramref name="p"/> to floats (AVX-512F).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load16(ushort* p)
    {
        var hs = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)); // the same two paths as Load8
        var e = hs & Vector512.Create(0x7c00);
        if (Vector512.EqualsAny(e, Vector512<int>.Zero) || Vector512.EqualsAny(e, Vector512.Create(0x7c00)))
            return ToFloat((hs & Vector512.Create(0xffff)).AsUInt32());
        return (((hs << 13) & Vector512.Create(unchecked((int)0x8fffe000))) + Vector512.Create(112 << 23)).AsSingle();
    }

    /// <summary>
    /// Thirty-two consecutive fp16 values at <paramref name="p"/> to floats, as <see cref="Load16"/> at p and p + 16 (the
    /// same bits): <see cref="Load32Finite"/>, or the general recipe when one of them is Inf or NaN.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load32(ushort* p, out Vector512<float> lo, out Vector512<float> hi)
    {
        if (Vector512.EqualsAny(Vector512.Load(p) & Vector512.Create((ushort)0x7c00), Vector512.Create((ushort)0x7c00)))
        {
            lo = ToFloat(Avx512F.ConvertToVector512UInt32(Vector256.Load(p)));
            hi = ToFloat(Avx512F.ConvertToVector512UInt32(Vector256.Load(p + 16)));
            return;
        }
        Load32Finite(p, out lo, out hi);
    }

    /// <summary>
    /// Thirty-two consecutive finite fp16 values at <paramref name="p"/> to floats, exactly, with no data-dependent
    /// branch (see <see cref="FiniteToFloat"/>); an Inf or NaN among them comes out as a finite number, so a caller
    /// checks for them itself (<see cref="FloatKernels"/>: one max per 32 values, one test per row).
    /// </summary>
    /// <remarks>Random-looking weights hold a zero or subnormal in ~7 % of 32-value runs (0.24 % of values at σ = 0.02),
    /// so a branch on them, as here before, mispredicted, and each misprediction also discarded the loads in flight:
    /// at 8B f16 decode streamed ~30 GB/s against a 45 GB/s plain read of the same weights.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load32Finite(ushort* p, out Vector512<float> lo, out Vector512<float> hi)
    {
        lo = FiniteToFloat(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)));
        hi = FiniteToFloat(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p + 16)));
    }

    /// <summary>
    /// Finite fp16 values, sign-extended to 32 bits, to floats, exactly. Exponent and mantissa move into place (t), and
    /// a normal is t rebiased by 112 in the exponent with an integer add. A zero or subnormal m·2^-24 is t's integer
    /// value m·2^13 converted to float and scaled by 2^-37 (exact: m &lt; 2^10), chosen by a mask compare. The sign
    /// is or-ed in last, for all lanes at once.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> FiniteToFloat(Vector512<int> hs)
    {
        var t = (hs << 13) & Vector512.Create(0x0fffe000);
        var normal = (t + Vector512.Create(112 << 23)).AsSingle();
        var small = Vector512.ConvertToSingle(t) * Vector512.Create(7.275957614183426e-12f) /* 2^-37 */;
        var v = Vector512.ConditionalSelect(Vector512.LessThan(t.AsUInt32(), Vector512.Create(0x00800000u)).AsSingle(), small, normal);
        return (v.AsInt32() | (hs & Vector512.Create(int.MinValue))).AsSingle();
    }

    /// <summary>Sixteen consecutive fp16 values at <paramref name="p"/> to floats, as <see cref="Load8"/> at p and p + 8
    /// (the same bits): <see cref="Load16PairFinite"/>, or the general recipe when one of them is Inf or NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load16Pair(ushort* p, out Vector256<float> lo, out Vector256<float> hi)
    {
        if (Vector256.EqualsAny(Vector256.Load(p) & Vector256.Create((ushort)0x7c00), Vector256.Create((ushort)0x7c00)))
        {
            lo = ToFloat(Avx2.ConvertToVector256Int32(p).AsUInt32());
            hi = ToFloat(Avx2.ConvertToVector256Int32(p + 8).AsUInt32());
            return;
        }
        Load16PairFinite(p, out lo, out hi);
    }

    /// <summary>Sixteen consecutive finite fp16 values at <paramref name="p"/> to floats, exactly and without a
    /// data-dependent branch (AVX2's form of <see cref="Load32Finite"/>; Inf and NaN come out finite).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load16PairFinite(ushort* p, out Vector256<float> lo, out Vector256<float> hi)
    {
        lo = FiniteToFloat(Avx2.ConvertToVector256Int32((short*)p));
        hi = FiniteToFloat(Avx2.ConvertToVector256Int32((short*)p + 8));
    }

    /// <summary>The 8-lane <see cref="FiniteToFloat(Vector512{int})"/> (t is at most 0x0fffe000, so a signed compare
    /// serves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> FiniteToFloat(Vector256<int> hs)
    {
        var t = (hs << 13) & Vector256.Create(0x0fffe000);
        var normal = (t + Vector256.Create(112 << 23)).AsSingle();
        var small = Vector256.ConvertToSingle(t) * Vector256.Create(7.275957614183426e-12f) /* 2^-37 */;
        var v = Vector256.ConditionalSelect(Vector256.LessThan(t, Vector256.Create(0x00800000)).AsSingle(), small, normal);
        return (v.AsInt32() | (hs & Vector256.Create(int.MinValue))).AsSingle();
    }

    /// <summary>
    /// Thirty-two consecutive finite fp16 values at <paramref name="p"/> as floats 2^-112 times their value, exactly: the
    /// exponent and mantissa moved into place under the sign, nothing else (2 integer ops per 16 values against the
    /// 9 of <see cref="Load32Finite"/>). A zero stays a zero, a normal's exponent is 112 short, and a subnormal m·2^-24
    /// becomes the float subnormal m·2^-136. A kernel multiplies them with x·2^112 (exact while |x| &lt; 2^16), so each
    /// product, and so every FMA, is what the true values give. Inf and NaN come out finite, as with
    /// <see cref="Load32Finite"/>. Only for CPUs on which subnormal operands cost nothing (<see cref="SubnormalOperandsAreFree"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load32Scaled(ushort* p, out Vector512<float> lo, out Vector512<float> hi)
    {
        lo = Scaled(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p)));
        hi = Scaled(Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p + 16)));
    }

    /// <summary>AVX2's form of <see cref="Load32Scaled"/>: sixteen values in two registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load16PairScaled(ushort* p, out Vector256<float> lo, out Vector256<float> hi)
    {
        lo = Scaled(Avx2.ConvertToVector256Int32((short*)p));
        hi = Scaled(Avx2.ConvertToVector256Int32((short*)p + 8));
    }

    /// <summary>fp16 values sign-extended to 32 bits: bits 14–0 to bits 27–13, the sign (copied into bits 31–16 by the
    /// extension) kept at bit 31.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scaled(Vector512<int> hs) => ((hs << 13) & Vector512.Create(unchecked((int)0x8fffe000))).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Scaled(Vector256<int> hs) => ((hs << 13) & Vector256.Create(unchecked((int)0x8fffe000))).AsSingle();

    /// <summary>2^112: <see cref="Load32Scaled"/>'s values times this are the fp16 values.</summary>
    public const float ScaledUnit = 5.192296858534828e33f;

    /// <summary>
    /// Whether an FMA with a subnormal operand runs as fast as with a normal one on this CPU, measured once (tens of microseconds
    /// where subnormals are free, about a millisecond where they are not; at the first f16 GEMV): AMD's cores handle subnormals in hardware, while Intel's take a microcode assist of ~100 cycles
    /// unless DAZ is set, which .NET does not. <see cref="Load32Scaled"/> feeds subnormals (and zeros) straight to the
    /// FMAs, so the kernels use it only where this holds; elsewhere they convert exactly without ever making one.
    /// </summary>
    public static bool SubnormalOperandsAreFree => SubnormalProbe.Free;

    /// <summary>For tests, on the calling thread: force the kernels that read fp16 values as 2^-112 times their value
    /// (f16 weights, q4_0 layout scales) to do so (true) or not (false); null: where <see cref="SubnormalOperandsAreFree"/>.</summary>
    [ThreadStatic] internal static bool? ScaledReads;

    private static class SubnormalProbe
    {
        public static readonly bool Free = Measure();

        private static bool Measure()
        {
            if (!Fma.IsSupported) return false;
            long normal = long.MaxValue;
            for (int trial = 0; trial < 5; trial++) normal = Math.Min(normal, FmaTicks(1e-3f, 1024));
            // Any one trial as fast as the normal operands is proof enough (a slow one may be a preemption).
            for (int trial = 0; trial < 5; trial++)
                if (FmaTicks(1e-40f, 1024) <= normal + normal / 4) return true;
            return false;
        }

        private static float _sink;

        /// <summary>Ticks for <paramref name="iterations"/> × 4 independent FMAs whose first operand is <paramref name="w"/>.</summary>
        [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
        private static long FmaTicks(float w, int iterations)
        {
            var wv = Vector256.Create(w);
            var xv = Vector256.Create(1.5f);
            // Sums start at 1, so every result is normal: only the operand is subnormal, as in the kernels.
            Vector256<float> a0 = Vector256<float>.One, a1 = a0, a2 = a0, a3 = a0;
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int i = 0; i < iterations; i++)
            {
                a0 = Fma.MultiplyAdd(wv, xv, a0);
                a1 = Fma.MultiplyAdd(wv, xv, a1);
                a2 = Fma.MultiplyAdd(wv, xv, a2);
                a3 = Fma.MultiplyAdd(wv, xv, a3);
            }
            long ticks = System.Diagnostics.Stopwatch.GetTimestamp() - start;
            _sink += ((a0 + a1) + (a2 + a3)).ToScalar();
            return ticks;
        }
    }

    /// <summary>Sixteen consecutive bf16 values at <paramref name="p"/> to floats (AVX-512F).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> LoadBf16x16(ushort* p) => (Avx512F.ConvertToVector512UInt32(Vector256.Load(p)) << 16).AsSingle();
}
