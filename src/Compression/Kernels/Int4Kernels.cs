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
            Avx2.IsSupported && Fma.IsSupported ? &DotAvx2 : &DotScalar);

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int g = c->Param, bytes = 4 + g / 2, ng = c->Cols / g, xbPerGroup = g / 32, chunks = g / 64;
        var mask = Vector256.Create((byte)0x0f);
        var acc = Vector256<float>.Zero;
        float zacc = 0;
        for (int gi = 0; gi < ng; gi++)
        {
            byte* blk = row + gi * bytes;
            float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
            int xb0 = gi * xbPerGroup;
            var inner = Vector256<float>.Zero;
            if (g == 32)
            {
                var q = IntDot.Nibbles32(blk + 4);
                inner = Avx.Multiply(Vector256.Create(c->Act.D[xb0]),
                    Avx.ConvertToVector256Single(IntDot.MulSumU8I8(q, Avx.LoadVector256(c->Act.Q + xb0 * 32))));
            }
            else
            {
                for (int k = 0; k < chunks; k++)
                {
                    var v = Avx.LoadVector256(blk + 4 + 32 * k);
                    var lo = Avx2.And(v, mask);
                    var hi = Avx2.And(Avx2.ShiftRightLogical(v.AsUInt16(), 4).AsByte(), mask);
                    int xl = xb0 + k, xh = xb0 + k + chunks;
                    inner = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xl]),
                        Avx.ConvertToVector256Single(IntDot.MulSumU8I8(lo, Avx.LoadVector256(c->Act.Q + xl * 32))), inner);
                    inner = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xh]),
                        Avx.ConvertToVector256Single(IntDot.MulSumU8I8(hi, Avx.LoadVector256(c->Act.Q + xh * 32))), inner);
                }
            }
            acc = Fma.MultiplyAdd(Vector256.Create(s), inner, acc);
            float xsum = 0;
            for (int k = 0; k < xbPerGroup; k++) xsum += c->Act.S[xb0 + k];
            zacc += (z - 8f * s) * xsum;
        }
        return IntDot.HSum(acc) + zacc;
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
