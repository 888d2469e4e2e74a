// Int4Kernels: decode GEMV for group-wise int4 — unsigned codes times Q8 activations, plus the zero-point term.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// With w = q·s + (z − 8s): y[r] = Σ_groups s·Σ q·x̂ + (z − 8s)·Σ x̂, where Σ q·x̂ = Σ_blocks d_x·Σ q·q_x
/// (maddubs takes the codes 0..15 as the unsigned operand directly) and Σ x̂ is the activation block sums.
/// </summary>
public static unsafe class Int4Kernels
{
    public static void Gemv(Int4Format f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, f.GroupSize,
            Pick(KernelIsa.Current), Pick4(KernelIsa.Current, f.GroupSize, KernelIsa.Vnni));

    /// <summary>The four-row kernel, where there is one: AVX-512 with groups of 128 (see <see cref="Dot4Avx512"/>); else, at
    /// AVX2 and above with groups of 64 or 128, <see cref="Dot4Avx2"/> (with AVX-VNNI's <c>vpdpbusd</c> where the CPU has it).</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick4(IsaLevel level, int groupSize, bool vnni) =>
        level == IsaLevel.Avx512 && groupSize % 128 == 0 ? &Dot4Avx512
        : level >= IsaLevel.Avx2 && groupSize is 64 or 128 ? (vnni ? &Dot4Vnni : &Dot4Avx2)
        : null;

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    /// <remarks>
    /// Accumulation order shared with <see cref="DotAvx512"/>: within a group, the 8 int32 lane sums
    /// of 32-activation block j are scaled by d_x into inner[j % 2] (blocks in ascending order per
    /// parity, starting from zero), then acc[p] += s·inner[p]; the result is HSum(acc0 + acc1) plus
    /// the zero-point term, summed group by group as a scalar.
    /// </remarks>
    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int g = c->Param, bytes = 4 + g / 2, ng = c->Cols / g, xbPerGroup = g / 32, chunks = g / 64;
        var mask = Vector256.Create((byte)0x0f);
        Vector256<float> acc0 = default, acc1 = default;
        float zacc = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* blk = row + gi * bytes;
            for (int l = 0; l < bytes; l += 64) KernelPrefetch.Line(blk + l + c->Ahead);
            float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
            int xb0 = gi * xbPerGroup;
            Vector256<float> inner0 = default, inner1 = default;
            if (g == 32)
            {
                var q = IntDot.Nibbles32(blk + 4);
                inner0 = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb0]),
                    Avx.ConvertToVector256Single(IntDot.MulSumU8I8(q, Avx.LoadVector256(c->Act.Q + xb0 * 32))), inner0);
                acc0 = Fma.MultiplyAdd(Vector256.Create(s), inner0, acc0);
            }
            else
            {
                // Chunk k's low nibbles are block k, its high nibbles block k + chunks.
                for (int k = 0; k < chunks; k++)
                {
                    var v = Avx.LoadVector256(blk + 4 + 32 * k);
                    var lo = Avx2.And(v, mask);
                    var hi = Avx2.And(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte(), mask);
                    int xl = k, xh = k + chunks;
                    var pl = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb0 + xl]),
                        Avx.ConvertToVector256Single(IntDot.MulSumU8I8(lo, Avx.LoadVector256(c->Act.Q + (xb0 + xl) * 32))), xl % 2 == 0 ? inner0 : inner1);
                    if (xl % 2 == 0) inner0 = pl; else inner1 = pl;
                    var ph = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb0 + xh]),
                        Avx.ConvertToVector256Single(IntDot.MulSumU8I8(hi, Avx.LoadVector256(c->Act.Q + (xb0 + xh) * 32))), xh % 2 == 0 ? inner0 : inner1);
                    if (xh % 2 == 0) inner0 = ph; else inner1 = ph;
                }
                acc0 = Fma.MultiplyAdd(Vector256.Create(s), inner0, acc0);
                acc1 = Fma.MultiplyAdd(Vector256.Create(s), inner1, acc1);
            }
            zacc += (z - 8f * s) * GroupSum(c, xb0, xbPerGroup);
        }
        return IntDot.HSum(Avx.Add(acc0, acc1)) + zacc;
    }

    internal static void Dot4Avx2(byte* row, GemvContext* c, float* y) => Dot4<NoVnni>(row, c, y);
    internal static void Dot4Vnni(byte* row, GemvContext* c, float* y) => Dot4<WithVnni>(row, c, y);

    /// <summary>
    /// <see cref="DotAvx2"/> for four consecutive rows (groups of 64 or 128): per group, x's codes, scales and Σx̂ are read
    /// once for all four rows, and each row takes the one-row kernel's steps in its order — the same int32 lanes (from
    /// maddubs and madd, or from one <c>vpdpbusd</c>: both exact), the same scale products into the same accumulators — so
    /// each row gets its bits. The one-row kernel loads as much of x as of the weights; on an AVX2 machine it ran at a
    /// third of q4_0's four-row kernel per core.
    /// </summary>
    private static void Dot4<TVnni>(byte* row, GemvContext* c, float* y) where TVnni : struct, IVnniChoice
    {
        bool vnni = TVnni.On;
        int g = c->Param, bytes = 4 + g / 2, ng = c->Cols / g, xbPerGroup = g / 32, chunks = g / 64;
        long rb = c->RowBytes;
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float z0 = 0, z1 = 0, z2 = 0, z3 = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* b0 = row + gi * bytes, b1 = b0 + rb, b2 = b0 + 2 * rb, b3 = b0 + 3 * rb;
            PrefetchGroup4(b0, rb, bytes, c->Ahead);
            int xb0 = gi * xbPerGroup;
            // inner[row][parity]: block j's scaled lanes go to parity j % 2, blocks in ascending order per parity.
            Vector256<float> i00 = default, i01 = default, i10 = default, i11 = default;
            Vector256<float> i20 = default, i21 = default, i30 = default, i31 = default;
            for (int k = 0; k < chunks; k++)
            {
                int xl = xb0 + k, xh = xb0 + k + chunks;
                var ql = Avx.LoadVector256(c->Act.Q + xl * 32);
                var qh = Avx.LoadVector256(c->Act.Q + xh * 32);
                var dl = Vector256.Create(c->Act.D[xl]);
                var dh = Vector256.Create(c->Act.D[xh]);
                int off = 4 + 32 * k;
                // g = 128: blocks k and k + 2 share a parity; g = 64: block 0 is even, block 1 odd.
                if (chunks == 2)
                {
                    if (k == 0)
                    {
                        ChunkInto(b0 + off, ql, qh, dl, dh, vnni, ref i00, ref i00);
                        ChunkInto(b1 + off, ql, qh, dl, dh, vnni, ref i10, ref i10);
                        ChunkInto(b2 + off, ql, qh, dl, dh, vnni, ref i20, ref i20);
                        ChunkInto(b3 + off, ql, qh, dl, dh, vnni, ref i30, ref i30);
                    }
                    else
                    {
                        ChunkInto(b0 + off, ql, qh, dl, dh, vnni, ref i01, ref i01);
                        ChunkInto(b1 + off, ql, qh, dl, dh, vnni, ref i11, ref i11);
                        ChunkInto(b2 + off, ql, qh, dl, dh, vnni, ref i21, ref i21);
                        ChunkInto(b3 + off, ql, qh, dl, dh, vnni, ref i31, ref i31);
                    }
                }
                else
                {
                    ChunkInto(b0 + off, ql, qh, dl, dh, vnni, ref i00, ref i01);
                    ChunkInto(b1 + off, ql, qh, dl, dh, vnni, ref i10, ref i11);
                    ChunkInto(b2 + off, ql, qh, dl, dh, vnni, ref i20, ref i21);
                    ChunkInto(b3 + off, ql, qh, dl, dh, vnni, ref i30, ref i31);
                }
            }
            float xsum = GroupSum(c, xb0, xbPerGroup);
            GroupEnd(b0, i00, i01, xsum, ref a00, ref a01, ref z0);
            GroupEnd(b1, i10, i11, xsum, ref a10, ref a11, ref z1);
            GroupEnd(b2, i20, i21, xsum, ref a20, ref a21, ref z2);
            GroupEnd(b3, i30, i31, xsum, ref a30, ref a31, ref z3);
        }
        y[0] = IntDot.HSum(Avx.Add(a00, a01)) + z0;
        y[1] = IntDot.HSum(Avx.Add(a10, a11)) + z1;
        y[2] = IntDot.HSum(Avx.Add(a20, a21)) + z2;
        y[3] = IntDot.HSum(Avx.Add(a30, a31)) + z3;
    }

    /// <summary>A group's lines in four consecutive rows, <paramref name="ahead"/> bytes on (one line per 64 bytes: a group of
    /// 68 bytes gets two, so no line of a row is left to a demand miss).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void PrefetchGroup4(byte* b0, long rb, int bytes, long ahead)
    {
        for (int l = 0; l < bytes; l += 64)
        {
            KernelPrefetch.Line(b0 + l + ahead);
            KernelPrefetch.Line(b0 + rb + l + ahead);
            KernelPrefetch.Line(b0 + 2 * rb + l + ahead);
            KernelPrefetch.Line(b0 + 3 * rb + l + ahead);
        }
    }

    /// <summary>One 32-byte chunk of a row in <see cref="DotAvx2"/>'s steps: its low nibbles (block xl) scaled into
    /// <paramref name="innerL"/>, then its high nibbles (block xh) into <paramref name="innerH"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void ChunkInto(byte* codes, Vector256<sbyte> ql, Vector256<sbyte> qh, Vector256<float> dl, Vector256<float> dh, bool vnni,
        ref Vector256<float> innerL, ref Vector256<float> innerH)
    {
        var mask = Vector256.Create((byte)0x0f);
        var v = Avx.LoadVector256(codes);
        var lo = Avx2.And(v, mask);
        var hi = Avx2.And(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte(), mask);
        innerL = Fma.MultiplyAdd(dl, Avx.ConvertToVector256Single(Lanes(lo, ql, vnni)), innerL);
        innerH = Fma.MultiplyAdd(dh, Avx.ConvertToVector256Single(Lanes(hi, qh, vnni)), innerH);
    }

    /// <summary>8 int32 sums of 4 products of codes 0..15 with signed activations: maddubs and madd, or one <c>vpdpbusd</c> (the same sums).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lanes(Vector256<byte> codes, Vector256<sbyte> x, bool vnni) =>
        vnni ? AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, codes, x) : IntDot.MulSumU8I8(codes, x);

    /// <summary>The end of a group in <see cref="DotAvx2"/>: acc[p] += s·inner[p], and the zero-point term onto <paramref name="zacc"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void GroupEnd(byte* blk, Vector256<float> inner0, Vector256<float> inner1, float xsum,
        ref Vector256<float> acc0, ref Vector256<float> acc1, ref float zacc)
    {
        float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
        var vs = Vector256.Create(s);
        acc0 = Fma.MultiplyAdd(vs, inner0, acc0);
        acc1 = Fma.MultiplyAdd(vs, inner1, acc1);
        zacc += (z - 8f * s) * xsum;
    }

    /// <summary>
    /// Group sizes 64 and multiples of 128: 64 codes per 512-bit step, blocks (2m, 2m+1) side by side,
    /// so each half replays DotAvx2's inner0/inner1 sequence exactly. Other group sizes run DotAvx2.
    /// </summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int g = c->Param;
        if (g != 64 && g % 128 != 0) return DotAvx2(row, c);
        int bytes = 4 + g / 2, ng = c->Cols / g, xbPerGroup = g / 32, chunks = g / 64;
        var mask = Vector512.Create((byte)0x0f);
        var acc = Vector512<float>.Zero;
        float zacc = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* blk = row + gi * bytes;
            for (int l = 0; l < bytes; l += 64) KernelPrefetch.Line(blk + l + c->Ahead);
            int xb0 = gi * xbPerGroup;
            var inner = Vector512<float>.Zero;
            if (g == 64)
            {
                var v = Avx.LoadVector256(blk + 4);
                var q = Vector512.Create(v, Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte()) & mask;
                inner = Avx512F.FusedMultiplyAdd(Scales(c, xb0), Avx512F.ConvertToVector512Single(
                    IntDot.MulSumU8I8(q, Vector512.Load(c->Act.Q + xb0 * 32))), inner);
            }
            else
                for (int k = 0; k < chunks; k += 2)
                    inner = Chunk(blk + 4 + 32 * k, Vector512.Load(c->Act.Q + (xb0 + k) * 32),
                        Vector512.Load(c->Act.Q + (xb0 + k + chunks) * 32), Scales(c, xb0 + k), Scales(c, xb0 + k + chunks), inner);
            acc = GroupEnd(blk, inner, acc, GroupSum(c, xb0, xbPerGroup), ref zacc);
        }
        return IntDot.HSum(acc) + zacc;
    }

    /// <summary>
    /// <see cref="DotAvx512"/> for four consecutive rows (groups of 128 or a multiple): per group, x's codes, scales and
    /// Σx̂ are read once for all four rows, and each row takes the one-row kernel's steps in its order, so each row gets
    /// its bits. The one-row kernel spends as many loads and scalar steps on x as on the weights.
    /// </summary>
    internal static void Dot4Avx512(byte* row, GemvContext* c, float* y)
    {
        int g = c->Param, bytes = 4 + g / 2, ng = c->Cols / g, xbPerGroup = g / 32, chunks = g / 64;
        long rb = c->RowBytes;
        Vector512<float> acc0 = default, acc1 = default, acc2 = default, acc3 = default;
        float z0 = 0, z1 = 0, z2 = 0, z3 = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* b0 = row + gi * bytes, b1 = b0 + rb, b2 = b0 + 2 * rb, b3 = b0 + 3 * rb;
            PrefetchGroup4(b0, rb, bytes, c->Ahead);
            int xb0 = gi * xbPerGroup;
            Vector512<float> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int k = 0; k < chunks; k += 2)
            {
                var xl = Vector512.Load(c->Act.Q + (xb0 + k) * 32);
                var xh = Vector512.Load(c->Act.Q + (xb0 + k + chunks) * 32);
                var sl = Scales(c, xb0 + k);
                var sh = Scales(c, xb0 + k + chunks);
                int off = 4 + 32 * k;
                i0 = Chunk(b0 + off, xl, xh, sl, sh, i0);
                i1 = Chunk(b1 + off, xl, xh, sl, sh, i1);
                i2 = Chunk(b2 + off, xl, xh, sl, sh, i2);
                i3 = Chunk(b3 + off, xl, xh, sl, sh, i3);
            }
            float xsum = GroupSum(c, xb0, xbPerGroup);
            acc0 = GroupEnd(b0, i0, acc0, xsum, ref z0);
            acc1 = GroupEnd(b1, i1, acc1, xsum, ref z1);
            acc2 = GroupEnd(b2, i2, acc2, xsum, ref z2);
            acc3 = GroupEnd(b3, i3, acc3, xsum, ref z3);
        }
        y[0] = IntDot.HSum(acc0) + z0;
        y[1] = IntDot.HSum(acc1) + z1;
        y[2] = IntDot.HSum(acc2) + z2;
        y[3] = IntDot.HSum(acc3) + z3;
    }

    /// <summary>One 512-bit step of <see cref="DotAvx512"/>: 64 code bytes, their low nibbles against <paramref name="xl"/>, high against <paramref name="xh"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chunk(byte* codes, Vector512<sbyte> xl, Vector512<sbyte> xh, Vector512<float> sl, Vector512<float> sh,
        Vector512<float> inner)
    {
        var mask = Vector512.Create((byte)0x0f);
        var v = Vector512.Load(codes);
        var lo = v & mask;
        var hi = Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
        inner = Avx512F.FusedMultiplyAdd(sl, Avx512F.ConvertToVector512Single(IntDot.MulSumU8I8(lo, xl)), inner);
        return Avx512F.FusedMultiplyAdd(sh, Avx512F.ConvertToVector512Single(IntDot.MulSumU8I8(hi, xh)), inner);
    }

    /// <summary>The end of a group in <see cref="DotAvx512"/>: acc += s·inner, and the zero-point term onto <paramref name="zacc"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupEnd(byte* blk, Vector512<float> inner, Vector512<float> acc, float xsum, ref float zacc)
    {
        float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
        zacc += (z - 8f * s) * xsum;
        return Avx512F.FusedMultiplyAdd(Vector512.Create(s), inner, acc);
    }

    /// <summary>d_x of activation blocks xb and xb+1 (xb even), each over its half: one load of the lane-expanded scales.</summary>
    private static Vector512<float> Scales(GemvContext* c, int xb) => Vector512.Load(c->Act.DLanes + xb * 8);

    /// <summary>Σ x̂ over a group, block sums added in order.</summary>
    private static float GroupSum(GemvContext* c, int xb0, int count)
    {
        float xsum = 0;
        for (int k = 0; k < count; k++) xsum += c->Act.S[xb0 + k];
        return xsum;
    }

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int g = c->Param, half = g / 2, bytes = 4 + half, ng = c->Cols / g;
        float sum = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* blk = row + gi * bytes;
            float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
            float qx = 0, xsum = 0;
            for (int k = 0; k < g / 32; k++)
            {
                int xb = gi * (g / 32) + k, isum = 0;
                for (int j = 0; j < 32; j++)
                {
                    int e = k * 32 + j; // element within the group
                    int q = e < half ? blk[4 + e] & 0x0f : blk[4 + e - half] >> 4;
                    isum += q * c->Act.Q[xb * 32 + j];
                }
                qx += c->Act.D[xb] * isum;
                xsum += c->Act.S[xb];
            }
            sum += s * qx + (z - 8f * s) * xsum;
        }
        return sum;
    }
}
