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
            Pick(KernelIsa.Current));

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => KernelIsa.Vbmi ? &DotAvx512Vbmi : &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    /// <remarks>
    /// Accumulation order shared with <see cref="DotAvx512"/>: per Q1_0 block, the 8 int32 lane sums
    /// of its four 32-weight groups k are scaled by d_x into innerA (k = 0 then 2) and innerB (k = 1
    /// then 3; the first as a product, the second fused), then accA += d_w·innerA, accB += d_w·innerB; the result is HSum(accA + accB).
    /// </remarks>
    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        var accA = Vector256<float>.Zero;
        var accB = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ1_0*)(row + b * BlockQ1_0.Size);
            KernelPrefetch.Line((byte*)blk + c->Ahead);
            int xb = b * 4;
            var s0 = SignedSum32(blk->Qs, c->Act.Q + xb * 32, c->Act.NegQ + xb * 32);
            var s1 = SignedSum32(blk->Qs + 4, c->Act.Q + xb * 32 + 32, c->Act.NegQ + xb * 32 + 32);
            var s2 = SignedSum32(blk->Qs + 8, c->Act.Q + xb * 32 + 64, c->Act.NegQ + xb * 32 + 64);
            var s3 = SignedSum32(blk->Qs + 12, c->Act.Q + xb * 32 + 96, c->Act.NegQ + xb * 32 + 96);
            var innerA = Avx.Multiply(Vector256.Create(c->Act.D[xb]), s0);
            var innerB = Avx.Multiply(Vector256.Create(c->Act.D[xb + 1]), s1);
            innerA = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb + 2]), s2, innerA);
            innerB = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb + 3]), s3, innerB);
            var dw = Vector256.Create(HalfConvert.ToFloat(*(ushort*)blk));
            accA = Fma.MultiplyAdd(dw, innerA, accA);
            accB = Fma.MultiplyAdd(dw, innerB, accB);
        }
        return IntDot.HSum(Avx.Add(accA, accB));
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
    /// 64 weights per 512-bit step: the 64 sign bits are broadcast, spread to one byte per weight and
    /// compared into a mask that picks x or −x. The lower half holds groups 0 and 2 of a block, the
    /// upper half groups 1 and 3, replaying DotAvx2's innerA/innerB exactly.
    /// </summary>
    internal static float DotAvx512(byte* row, GemvContext* c) => DotAvx512(row, c, vbmi: false);
    internal static float DotAvx512Vbmi(byte* row, GemvContext* c) => DotAvx512(row, c, vbmi: true);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float DotAvx512(byte* row, GemvContext* c, bool vbmi)
    {
        int nb = c->Cols / 128;
        // Within each 128-bit lane L (weights 16L..16L+15), byte j reads byte 2L + j/8 of the broadcast qword.
        var spread = Vector512.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
                                      4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5,
                                      6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
        var bit = Vector512.Create(0x8040201008040201UL).AsByte();
        sbyte* q = c->Act.Q, nq = c->Act.NegQ;
        float* dl = c->Act.DLanes;
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + b * BlockQ1_0.Size;
            KernelPrefetch.Line(blk + c->Ahead);
            var s01 = SignedSum64(*(ulong*)(blk + 2), q + b * 128, nq + b * 128, spread, bit, vbmi);
            var s23 = SignedSum64(*(ulong*)(blk + 10), q + b * 128 + 64, nq + b * 128 + 64, spread, bit, vbmi);
            var inner = Avx512F.Multiply(Vector512.Load(dl + b * 32), s01);
            inner = Avx512F.FusedMultiplyAdd(Vector512.Load(dl + b * 32 + 16), s23, inner);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(HalfConvert.ToFloat(*(ushort*)blk)), inner, acc);
        }
        return IntDot.HSum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SignedSum64(ulong bits, sbyte* x, sbyte* negX, Vector512<byte> spread, Vector512<byte> bit, bool vbmi)
    {
        Vector512<sbyte> sx;
        if (vbmi)
        {
            // vpmultishiftqb rotates bit j of the 64 into the sign bit of byte j (control (j − 7) mod 64), and the sign
            // bits are the blend mask: two instructions where the shuffle, and, test take three.
            var signs = Avx512Vbmi.MultiShift(SignControl, Vector512.Create(bits)).AsSByte();
            sx = Vector512.ConditionalSelect(Vector512.LessThan(signs, Vector512<sbyte>.Zero), Vector512.Load(x), Vector512.Load(negX));
        }
        else
        {
            var clear = Vector512.Equals(Avx512BW.Shuffle(Vector512.Create(bits).AsByte(), spread) & bit, Vector512<byte>.Zero);
            sx = Vector512.ConditionalSelect(clear.AsSByte(), Vector512.Load(negX), Vector512.Load(x));
        }
        return Avx512F.ConvertToVector512Single(IntDot.MulSumU8I8(Vector512.Create((byte)1), sx));
    }

    /// <summary>Byte j: (j − 7) mod 64, the MultiShift offset that puts bit j of a qword at bit 7 of byte j.</summary>
    private static readonly Vector512<byte> SignControl = Vector512.Create(
        (byte)57, 58, 59, 60, 61, 62, 63, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24,
        25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56);

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
