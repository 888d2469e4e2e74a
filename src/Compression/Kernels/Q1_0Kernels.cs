// Q1_0Kernels: decode GEMV for q1_0 — sign bits expanded to ±1 bytes in registers, times Q8 activations.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>y[r] = Σ_blocks d_w·Σ_{4 sub-blocks of 32} d_x·Σ ±q_x (one Q1_0 block spans four Q8 blocks).</summary>
public static unsafe class Q1_0Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0,
            Pick(KernelIsa.Current), Pick4(KernelIsa.Current, KernelIsa.Vbmi));

    /// <summary>The row-dot kernel for <paramref name="level"/> and this thread's optional extensions.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => KernelIsa.Vbmi ? &DotAvx512Vbmi : &DotAvx512,
        IsaLevel.Avx2 => KernelIsa.Vnni ? &DotAvx2Vnni : &DotAvx2,
        _ => &DotScalar,
    };

    /// <summary>The four-row kernel, where there is one: AVX-512 with VBMI (see <see cref="Dot4Avx512Vbmi"/>).</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick4(IsaLevel level, bool vbmi) =>
        level == IsaLevel.Avx512 && vbmi ? &Dot4Avx512Vbmi : null;

    /// <remarks>
    /// Accumulation order shared with <see cref="DotAvx512"/>: per Q1_0 block, the 8 int32 lane sums
    /// of its four 32-weight groups k are scaled by d_x into innerA (k = 0 then 2) and innerB (k = 1
    /// then 3; the first as a product, the second fused), then accA += d_w·innerA, accB += d_w·innerB; the result is HSum(accA + accB).
    /// </remarks>
    internal static float DotAvx2(byte* row, GemvContext* c) => Dot256(row, c, vnni: false);

    /// <summary>
    /// <see cref="DotAvx2"/> with AVX-VNNI: each group of 32 is one <c>vpdpbusd</c> of selectors u = 2 where a bit is
    /// clear (0 where set) with −x, onto the lane sums Σx of <see cref="ActivationQ8.Sum4"/>: Σx − 2·Σ_clear x = Σ±x,
    /// the same integers, then the same float steps, so the same bits.
    /// </summary>
    internal static float DotAvx2Vnni(byte* row, GemvContext* c) => Dot256(row, c, vnni: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Dot256(byte* row, GemvContext* c, bool vnni)
    {
        int nb = c->Cols / 128;
        var accA = Vector256<float>.Zero;
        var accB = Vector256<float>.Zero;
        sbyte* q = c->Act.Q, nq = c->Act.NegQ;
        int* s4 = c->Act.Sum4;
        float* d = c->Act.D;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + b * BlockQ1_0.Size;
            KernelPrefetch.Line(blk + c->Ahead);
            var s0 = Group(blk + 2, q + b * 128, nq + b * 128, s4 + b * 32, vnni);
            var s1 = Group(blk + 6, q + b * 128 + 32, nq + b * 128 + 32, s4 + b * 32 + 8, vnni);
            var s2 = Group(blk + 10, q + b * 128 + 64, nq + b * 128 + 64, s4 + b * 32 + 16, vnni);
            var s3 = Group(blk + 14, q + b * 128 + 96, nq + b * 128 + 96, s4 + b * 32 + 24, vnni);
            var innerA = Avx.Multiply(Vector256.Create(d[4 * b]), s0);
            var innerB = Avx.Multiply(Vector256.Create(d[4 * b + 1]), s1);
            innerA = Fma.MultiplyAdd(Vector256.Create(d[4 * b + 2]), s2, innerA);
            innerB = Fma.MultiplyAdd(Vector256.Create(d[4 * b + 3]), s3, innerB);
            var dw = Vector256.Create(HalfConvert.ToFloat(*(ushort*)blk));
            accA = Fma.MultiplyAdd(dw, innerA, accA);
            accB = Fma.MultiplyAdd(dw, innerB, accB);
        }
        return IntDot.HSum(Avx.Add(accA, accB));
    }

    /// <summary>The 8 lane sums of one group of 32: its sign bits, x's codes, −x and x's 4-lane sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Group(byte* bits, sbyte* x, sbyte* negX, int* sum4, bool vnni) =>
        vnni ? SignedSumVnni(bits, negX, sum4) : SignedSum32(bits, x, negX);

    /// <summary>8 int32 sums (as floats) of ±x over 4 consecutive weights each (+ where a bit is set), by VNNI.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SignedSumVnni(byte* bits, sbyte* negX, int* sum4)
    {
        var spread = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        var b = Vector256.Create(*(uint*)bits).AsByte();
        var u = Avx2.And(Avx2.CompareEqual(Avx2.And(Avx2.Shuffle(b, spread), bit), Vector256<byte>.Zero), Vector256.Create((byte)2));
        return Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(Avx.LoadVector256(sum4), u, Avx.LoadVector256(negX)));
    }

    /// <summary>8 int32 sums (as floats) of ±x over 4 consecutive weights each, signs from 32 bits at <paramref name="bits"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> SignedSum32(byte* bits, sbyte* x, sbyte* negX)
    {
        // byte i of the group reads bit (i % 8) of byte (i / 8) of its 4 bytes of bits.
        var spread = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var bit = Vector256.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                                   1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        var b = Vector256.Create(*(uint*)bits).AsByte();
        var set = Avx2.CompareEqual(Avx2.And(Avx2.Shuffle(b, spread), bit), bit);
        var sx = Avx2.BlendVariable(Avx.LoadVector256(negX), Avx.LoadVector256(x), set.AsSByte()); // x where set, −x where clear
        return Avx.ConvertToVector256Single(IntDot.MulSumU8I8(Vector256.Create((byte)1), sx));
    }

    /// <summary>
    /// 64 weights per 512-bit step: the 64 sign bits are broadcast, spread to one byte per weight and compared into a
    /// mask that picks x or −x. A block's first step holds groups 0 and 1 (lower and upper half), its second groups 2
    /// and 3, so the lower half replays DotAvx2's innerA and the upper its innerB exactly.
    /// </summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        sbyte* q = c->Act.Q, nq = c->Act.NegQ;
        float* dl = c->Act.DLanes;
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + b * BlockQ1_0.Size;
            KernelPrefetch.Line(blk + c->Ahead);
            var s01 = SignedSum64(*(ulong*)(blk + 2), q + b * 128, nq + b * 128);
            var s23 = SignedSum64(*(ulong*)(blk + 10), q + b * 128 + 64, nq + b * 128 + 64);
            var inner = Avx512F.Multiply(Vector512.Load(dl + b * 32), s01);
            inner = Avx512F.FusedMultiplyAdd(Vector512.Load(dl + b * 32 + 16), s23, inner);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(HalfConvert.ToFloat(*(ushort*)blk)), inner, acc);
        }
        return IntDot.HSum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SignedSum64(ulong bits, sbyte* x, sbyte* negX)
    {
        // Within each 128-bit lane L (weights 16L..16L+15), byte j reads byte 2L + j/8 of the broadcast qword.
        var spread = Vector512.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
                                      4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
                                      6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
        var bit = Vector512.Create(0x8040201008040201UL).AsByte();
        var clear = Vector512.Equals(Avx512BW.Shuffle(Vector512.Create(bits).AsByte(), spread) & bit, Vector512<byte>.Zero);
        var sx = Vector512.ConditionalSelect(clear.AsSByte(), Vector512.Load(negX), Vector512.Load(x));
        return Avx512F.ConvertToVector512Single(IntDot.MulSumU8I8(Vector512.Create((byte)1), sx));
    }

    /// <summary>
    /// AVX-512 with VBMI, and no k-mask blend: selectors u = 2 where a bit is clear (0 where set) come from one
    /// multishift and an and-not per 64 weights, and Σx − 2·Σ_clear x = Σ±x is two multiply-add pairs of u with −x
    /// added to <see cref="ActivationQ8.Sum4"/>'s lanes: <see cref="DotAvx512"/>'s integers, then its float steps,
    /// so the same bits.
    /// </summary>
    internal static float DotAvx512Vbmi(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        sbyte* nq = c->Act.NegQ;
        int* s4 = c->Act.Sum4;
        float* dl = c->Act.DLanes, half = HalfConvert.TablePtr;
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < nb; b++)
            acc = BlockVbmi(row + b * BlockQ1_0.Size, c, Vector512.Load(nq + b * 128), Vector512.Load(nq + b * 128 + 64),
                Vector512.Load(s4 + b * 32), Vector512.Load(s4 + b * 32 + 16),
                Vector512.Load(dl + b * 32), Vector512.Load(dl + b * 32 + 16), half, acc);
        return IntDot.HSum(acc);
    }

    /// <summary>
    /// <see cref="DotAvx512Vbmi"/> for four consecutive rows: x's codes, lane sums and scales are loaded once for all
    /// four, and each row takes the one-row kernel's steps, so each row gets its bits. The one-row kernel is bound by
    /// its loads (six 512-bit activation loads per block of 18 weight bytes); shared, they are a quarter of that.
    /// </summary>
    internal static void Dot4Avx512Vbmi(byte* row, GemvContext* c, float* y)
    {
        int nb = c->Cols / 128;
        long rb = c->RowBytes;
        sbyte* nq = c->Act.NegQ;
        int* s4 = c->Act.Sum4;
        float* dl = c->Act.DLanes, half = HalfConvert.TablePtr;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        for (int b = 0; b < nb; b++)
        {
            var x01 = Vector512.Load(nq + b * 128);
            var x23 = Vector512.Load(nq + b * 128 + 64);
            var m01 = Vector512.Load(s4 + b * 32);
            var m23 = Vector512.Load(s4 + b * 32 + 16);
            var d01 = Vector512.Load(dl + b * 32);
            var d23 = Vector512.Load(dl + b * 32 + 16);
            byte* blk = row + b * BlockQ1_0.Size;
            acc0 = BlockVbmi(blk, c, x01, x23, m01, m23, d01, d23, half, acc0);
            acc1 = BlockVbmi(blk + rb, c, x01, x23, m01, m23, d01, d23, half, acc1);
            acc2 = BlockVbmi(blk + 2 * rb, c, x01, x23, m01, m23, d01, d23, half, acc2);
            acc3 = BlockVbmi(blk + 3 * rb, c, x01, x23, m01, m23, d01, d23, half, acc3);
        }
        y[0] = IntDot.HSum(acc0);
        y[1] = IntDot.HSum(acc1);
        y[2] = IntDot.HSum(acc2);
        y[3] = IntDot.HSum(acc3);
    }

    /// <summary>acc + d_w·(d01·lanes of groups 0 and 1 + d23·lanes of groups 2 and 3) for the block at <paramref name="blk"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> BlockVbmi(byte* blk, GemvContext* c, Vector512<sbyte> x01, Vector512<sbyte> x23,
        Vector512<int> m01, Vector512<int> m23, Vector512<float> d01, Vector512<float> d23, float* half, Vector512<float> acc)
    {
        KernelPrefetch.Line(blk + c->Ahead);
        var inner = Avx512F.Multiply(d01, Selected64(*(ulong*)(blk + 2), x01, m01));
        inner = Avx512F.FusedMultiplyAdd(d23, Selected64(*(ulong*)(blk + 10), x23, m23), inner);
        return Avx512F.FusedMultiplyAdd(Vector512.Create(half[*(ushort*)blk]), inner, acc);
    }

    /// <summary>16 int32 lane sums (as floats) of ±x over 4 consecutive weights each, + where a bit of <paramref name="bits"/>
    /// is set: Σx (<paramref name="sum4"/>) plus the multiply-add pairs of selectors {0, 2} (2 where clear) with −x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Selected64(ulong bits, Vector512<sbyte> negX, Vector512<int> sum4)
    {
        var u = Vector512.AndNot(Vector512.Create((byte)2), Avx512Vbmi.MultiShift(Bit1Control, Vector512.Create(bits)));
        var pairs = Avx512BW.MultiplyAddAdjacent(u, negX);
        return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(pairs, Vector512.Create((short)1)) + sum4);
    }

    /// <summary>Byte j: (j − 1) mod 64, the multishift offset that puts bit j of a qword at bit 1 of byte j.</summary>
    private static readonly Vector512<byte> Bit1Control = Vector512.Create(
        (byte)63, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30,
        31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62);

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ1_0*)(row + b * BlockQ1_0.Size);
            float inner = 0;
            for (int k = 0; k < 4; k++)
            {
                int xb = b * 4 + k, isum = 0;
                sbyte* xq = c->Act.Q + xb * 32;
                for (int j = 0; j < 32; j++)
                    isum += ((blk->Qs[4 * k + j / 8] >> (j % 8)) & 1) != 0 ? xq[j] : -xq[j];
                inner += c->Act.D[xb] * isum;
            }
            sum += HalfConvert.ToFloat(*(ushort*)blk) * inner;
        }
        return sum;
    }
}
