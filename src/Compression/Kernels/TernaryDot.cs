// TernaryDot: the accumulation both ternary kernels (tq1_0, tq2_0) share once they have unpacked a block's codes.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// A ternary block of 256 weights spans 8 Q8 activation blocks of 32 (groups g = 0..7). Each kernel unpacks a
/// group's weights to codes 0, 1, 2 (w + 1) in 32 bytes; Σ w·x̂ = Σ code·x̂ − Σ x̂, lane by lane (4 weights per
/// int32 lane; Σ4 x̂ is <see cref="ActivationQ8.Sum4x8"/>/8, exact). Float order, shared by both ISA paths:
/// innerA = d₀s₀, then += d₂s₂, d₄s₄, d₆s₆ (fused); innerB likewise over the odd groups; accA += d_w·innerA,
/// accB += d_w·innerB; result HSum(accA + accB). The AVX-512 path holds (even, odd) group pairs in one
/// register, so its lower half is innerA/accA and its upper half innerB/accB: the sums are bit-identical.
/// </summary>
internal static unsafe class TernaryDot
{
    /// <summary>8 int32 lanes Σ4 (code − 1)·x̂ of group <paramref name="g"/>, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Lanes(Vector256<byte> codes, GemvContext* c, int g) =>
        Avx.ConvertToVector256Single(Avx2.Subtract(IntDot.MulSumU8I8(codes, Avx.LoadVector256(c->Act.Q + g * 32)),
            Avx2.ShiftRightArithmetic(Avx.LoadVector256(c->Act.Sum4x8 + g * 8), 3)));

    /// <summary>Groups g and g+1 side by side (lower half g), as two <see cref="Lanes(Vector256{byte}, GemvContext*, int)"/> calls would give.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Lanes(Vector256<byte> even, Vector256<byte> odd, GemvContext* c, int g) =>
        Avx512F.ConvertToVector512Single(IntDot.MulSumU8I8(Vector512.Create(even, odd), Vector512.Load(c->Act.Q + g * 32))
            - Avx512F.ShiftRightArithmetic(Vector512.Load(c->Act.Sum4x8 + g * 8), 3));

    /// <summary>Adds one block (groups g0..g0+7, codes k0..k7) scaled by <paramref name="dw"/> into accA/accB (AVX2 order).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(GemvContext* c, int g0, float dw,
        Vector256<byte> k0, Vector256<byte> k1, Vector256<byte> k2, Vector256<byte> k3,
        Vector256<byte> k4, Vector256<byte> k5, Vector256<byte> k6, Vector256<byte> k7,
        ref Vector256<float> accA, ref Vector256<float> accB)
    {
        float* d = c->Act.D + g0;
        var innerA = Avx.Multiply(Vector256.Create(d[0]), Lanes(k0, c, g0));
        var innerB = Avx.Multiply(Vector256.Create(d[1]), Lanes(k1, c, g0 + 1));
        innerA = Fma.MultiplyAdd(Vector256.Create(d[2]), Lanes(k2, c, g0 + 2), innerA);
        innerB = Fma.MultiplyAdd(Vector256.Create(d[3]), Lanes(k3, c, g0 + 3), innerB);
        innerA = Fma.MultiplyAdd(Vector256.Create(d[4]), Lanes(k4, c, g0 + 4), innerA);
        innerB = Fma.MultiplyAdd(Vector256.Create(d[5]), Lanes(k5, c, g0 + 5), innerB);
        innerA = Fma.MultiplyAdd(Vector256.Create(d[6]), Lanes(k6, c, g0 + 6), innerA);
        innerB = Fma.MultiplyAdd(Vector256.Create(d[7]), Lanes(k7, c, g0 + 7), innerB);
        var vdw = Vector256.Create(dw);
        accA = Fma.MultiplyAdd(vdw, innerA, accA);
        accB = Fma.MultiplyAdd(vdw, innerB, accB);
    }

    /// <summary>The AVX-512 form of <see cref="Block(GemvContext*, int, float, Vector256{byte}, Vector256{byte}, Vector256{byte}, Vector256{byte}, Vector256{byte}, Vector256{byte}, Vector256{byte}, Vector256{byte}, ref Vector256{float}, ref Vector256{float})"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Block(GemvContext* c, int g0, float dw,
        Vector256<byte> k0, Vector256<byte> k1, Vector256<byte> k2, Vector256<byte> k3,
        Vector256<byte> k4, Vector256<byte> k5, Vector256<byte> k6, Vector256<byte> k7,
        ref Vector512<float> acc)
    {
        float* dl = c->Act.DLanes + g0 * 8;
        var inner = Avx512F.Multiply(Vector512.Load(dl), Lanes(k0, k1, c, g0));
        inner = Avx512F.FusedMultiplyAdd(Vector512.Load(dl + 16), Lanes(k2, k3, c, g0 + 2), inner);
        inner = Avx512F.FusedMultiplyAdd(Vector512.Load(dl + 32), Lanes(k4, k5, c, g0 + 4), inner);
        inner = Avx512F.FusedMultiplyAdd(Vector512.Load(dl + 48), Lanes(k6, k7, c, g0 + 6), inner);
        acc = Avx512F.FusedMultiplyAdd(Vector512.Create(dw), inner, acc);
    }

    /// <summary>Scalar reference of one block: per group the exact integer Σ w·q_x, then Σ_g d_x·isum, times d_w.</summary>
    public static float BlockScalar(GemvContext* c, int g0, float dw, sbyte* w)
    {
        float inner = 0;
        for (int g = 0; g < 8; g++)
        {
            sbyte* xq = c->Act.Q + (g0 + g) * 32;
            int isum = 0;
            for (int j = 0; j < 32; j++) isum += w[32 * g + j] * xq[j];
            inner += c->Act.D[g0 + g] * isum;
        }
        return dw * inner;
    }
}
