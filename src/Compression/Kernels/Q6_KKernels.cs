// Q6_KKernels: decode GEMV for q6_k — 6-bit codes rebuilt in registers, times Q8 activations, integer multiply-add.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// y[r] = Σ_superblocks d·Σ_{32-blocks j} d_x,j·Σ_{16-halves} sc·Σ (q−32)·q_x — the integer form of
/// llama.cpp's <c>ggml_vec_dot_q6_K_q8_K</c>, with our Q8 activation blocks of 32 (each covers two
/// 16-weight sub-blocks, so the int8 sub-scales enter as an int16 multiply-add and stay exact).
/// Activation block j of a super-block falls in quarter j % 4 of half j / 4:
/// code = (ql[l + 32·(q&amp;1)] &gt;&gt; 4·(q/2) &amp; 15) | ((qh[l] &gt;&gt; 2q) &amp; 3) &lt;&lt; 4 for quarter q, l &lt; 32.
/// </summary>
public static unsafe class Q6_KKernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0, Pick(KernelIsa.Current));

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    /// <remarks>
    /// Accumulation order shared with <see cref="DotAvx512"/>: the 8 int32 lane sums of activation
    /// block j are scaled by d·d_x,j into acc[j % 2], blocks in ascending order; result HSum(acc0 + acc1).
    /// </remarks>
    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        var m4 = Vector256.Create((byte)0x0f);
        var m30 = Vector256.Create((byte)0x30);
        var bias = Vector256.Create((sbyte)32);
        Vector256<float> acc0 = default, acc1 = default;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            var blk = (BlockQ6_K*)(row + b * BlockQ6_K.Size);
            float d = HalfConvert.ToFloat(*(ushort*)&blk->D);
            for (int h = 0; h < 2; h++)
            {
                byte* ql = blk->Ql + 64 * h;
                var l0 = Avx.LoadVector256(ql);
                var l1 = Avx.LoadVector256(ql + 32);
                var qh = Avx.LoadVector256(blk->Qh + 32 * h);
                // Byte lanes have no 8-bit shifts; 16-bit shifts plus masks keep each byte's bits in place.
                var q1 = Avx2.Or(Avx2.And(l0, m4), Avx2.And(Avx2.ShiftLeftLogical(qh.AsUInt16(), 4).AsByte(), m30));
                var q2 = Avx2.Or(Avx2.And(l1, m4), Avx2.And(Avx2.ShiftLeftLogical(qh.AsUInt16(), 2).AsByte(), m30));
                var q3 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l0.AsUInt16(), 4).AsByte(), m4), Avx2.And(qh, m30));
                var q4 = Avx2.Or(Avx2.And(Avx2.ShiftRightLogical(l1.AsUInt16(), 4).AsByte(), m4), Avx2.And(Avx2.ShiftRightLogical(qh.AsUInt16(), 2).AsByte(), m30));
                sbyte* sc = blk->Scales + 8 * h;
                int xb = b * 8 + 4 * h;
                sbyte* xq = c->Act.Q + xb * 32;
                acc0 = Fma.MultiplyAdd(Vector256.Create(d * c->Act.D[xb]), ScaledSum(Avx2.Subtract(q1.AsSByte(), bias), xq, sc[0], sc[1]), acc0);
                acc1 = Fma.MultiplyAdd(Vector256.Create(d * c->Act.D[xb + 1]), ScaledSum(Avx2.Subtract(q2.AsSByte(), bias), xq + 32, sc[2], sc[3]), acc1);
                acc0 = Fma.MultiplyAdd(Vector256.Create(d * c->Act.D[xb + 2]), ScaledSum(Avx2.Subtract(q3.AsSByte(), bias), xq + 64, sc[4], sc[5]), acc0);
                acc1 = Fma.MultiplyAdd(Vector256.Create(d * c->Act.D[xb + 3]), ScaledSum(Avx2.Subtract(q4.AsSByte(), bias), xq + 96, sc[6], sc[7]), acc1);
            }
        }
        return IntDot.HSum(Avx.Add(acc0, acc1));
    }

    /// <summary>8 int32 lanes of sc·Σ over 4 weights of w·x (first 16 weights sc0, last 16 sc1), as floats.
    /// |w| ≤ 32 keeps the int16 pair sums far from saturation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> ScaledSum(Vector256<sbyte> w, sbyte* x, sbyte sc0, sbyte sc1)
    {
        var pairs = Avx2.MultiplyAddAdjacent(Avx2.Sign(w, w).AsByte(), Avx2.Sign(Avx.LoadVector256(x), w));
        var scales = Vector256.Create(Vector128.Create((short)sc0), Vector128.Create((short)sc1));
        return Avx.ConvertToVector256Single(Avx2.MultiplyAddAdjacent(pairs, scales));
    }

    /// <summary>
    /// Two activation blocks per 512-bit step: quarters (1, 2) and (3, 4) of each half side by side,
    /// the lower half replaying DotAvx2's acc0 and the upper its acc1 exactly.
    /// </summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        var m4 = Vector512.Create((byte)0x0f);
        var m30 = Vector512.Create((byte)0x30);
        var bias = Vector512.Create((sbyte)32);
        // Quarter 1 takes qh bits 0-1 (shift left 4), quarter 2 bits 2-3 (left 2), 3 bits 4-5 (none), 4 bits 6-7 (right 2).
        var shl12 = Vector512.Create((ushort)4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
        var shr34 = Vector512.Create((ushort)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2);
        // int16 lane i of a 64-weight step covers weights 2i, 2i+1: sub-scale i / 8 of the step's four.
        var idx = stackalloc Vector512<short>[4];
        for (int k = 0; k < 4; k++)
            idx[k] = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3) + Vector512.Create((short)(4 * k));
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            var blk = (BlockQ6_K*)(row + b * BlockQ6_K.Size);
            float d = HalfConvert.ToFloat(*(ushort*)&blk->D);
            var vd = Vector512.Create(d); // d·d_x lane by lane: the same products DotAvx2 forms as scalars
            var sc16 = Avx2.ConvertToVector256Int16(Vector128.Load(blk->Scales));
            var sc = Vector512.Create(sc16, sc16);
            for (int h = 0; h < 2; h++)
            {
                var l = Vector512.Load(blk->Ql + 64 * h);
                var qh256 = Vector256.Load(blk->Qh + 32 * h);
                var qh = Vector512.Create(qh256, qh256).AsUInt16();
                var q12 = (l & m4) | (Avx512BW.ShiftLeftLogicalVariable(qh, shl12).AsByte() & m30);
                var q34 = (Avx512BW.ShiftRightLogical(l.AsUInt16(), 4).AsByte() & m4) | (Avx512BW.ShiftRightLogicalVariable(qh, shr34).AsByte() & m30);
                int xb = b * 8 + 4 * h;
                sbyte* xq = c->Act.Q + xb * 32;
                acc = Avx512F.FusedMultiplyAdd(vd * Vector512.Load(c->Act.DLanes + xb * 8),
                    ScaledSum(q12.AsSByte() - bias, xq, Avx512BW.PermuteVar32x16(sc, idx[2 * h])), acc);
                acc = Avx512F.FusedMultiplyAdd(vd * Vector512.Load(c->Act.DLanes + xb * 8 + 16),
                    ScaledSum(q34.AsSByte() - bias, xq + 64, Avx512BW.PermuteVar32x16(sc, idx[2 * h + 1])), acc);
            }
        }
        return IntDot.HSum(acc);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ScaledSum(Vector512<sbyte> w, sbyte* x, Vector512<short> scales)
    {
        var xv = Vector512.Load(x);
        var sx = Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), Vector512<sbyte>.Zero - xv, xv);
        var pairs = Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(w), sx);
        return Avx512F.ConvertToVector512Single(Avx512BW.MultiplyAddAdjacent(pairs, scales));
    }

    /// <summary>Scalar reference: integer sums per 16-weight sub-block, scaled per activation block.</summary>
    internal static float DotScalar(byte* row, GemvContext* c)
    {
        float sum = 0;
        for (int b = 0; b < c->Cols / 256; b++)
        {
            var blk = (BlockQ6_K*)(row + b * BlockQ6_K.Size);
            float d = HalfConvert.ToFloat(*(ushort*)&blk->D);
            for (int j = 0; j < 8; j++)
            {
                int h = j / 4, quarter = j % 4, xb = b * 8 + j, isum = 0;
                byte* ql = blk->Ql + 64 * h + 32 * (quarter & 1);
                byte* qh = blk->Qh + 32 * h;
                for (int half = 0; half < 2; half++)
                {
                    int sub = 0;
                    for (int l = 16 * half; l < 16 * half + 16; l++)
                    {
                        int code = ((ql[l] >> (4 * (quarter / 2))) & 15) | (((qh[l] >> (2 * quarter)) & 3) << 4);
                        sub += (code - 32) * c->Act.Q[xb * 32 + l];
                    }
                    isum += blk->Scales[8 * h + 2 * quarter + half] * sub;
                }
                sum += d * c->Act.D[xb] * isum;
            }
        }
        return sum;
    }
}
