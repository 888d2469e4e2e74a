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
            Pick(KernelIsa.Current));

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
            float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
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
            {
                for (int k = 0; k < chunks; k += 2)
                {
                    var v = Vector512.Load(blk + 4 + 32 * k);
                    var lo = v & mask;
                    var hi = Avx512BW.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & mask;
                    inner = Avx512F.FusedMultiplyAdd(Scales(c, xb0 + k), Avx512F.ConvertToVector512Single(
                        IntDot.MulSumU8I8(lo, Vector512.Load(c->Act.Q + (xb0 + k) * 32))), inner);
                    inner = Avx512F.FusedMultiplyAdd(Scales(c, xb0 + k + chunks), Avx512F.ConvertToVector512Single(
                        IntDot.MulSumU8I8(hi, Vector512.Load(c->Act.Q + (xb0 + k + chunks) * 32))), inner);
                }
            }
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(s), inner, acc);
            zacc += (z - 8f * s) * GroupSum(c, xb0, xbPerGroup);
        }
        return IntDot.HSum(acc) + zacc;
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
