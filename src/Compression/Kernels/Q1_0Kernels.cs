// Q1_0Kernels: decode GEMV for q1_0 — sign bits expanded to ±1 bytes in registers, times Q8 activations.
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
            Avx2.IsSupported && Fma.IsSupported ? &DotAvx2 : &DotScalar);

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        // byte i of a 32-weight group reads bit (i % 8) of byte (i / 8) of its 4 bytes of bits.
        var spread = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var bit = Vector256.Create((byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128,
                                   1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);
        var onesU8 = Vector256.Create((byte)1);
        var ones16 = Vector256.Create((short)1);
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ1_0*)(row + b * BlockQ1_0.Size);
            var inner = Vector256<float>.Zero;
            for (int k = 0; k < 4; k++)
            {
                var bits = Vector256.Create(*(uint*)(blk->Qs + 4 * k)).AsByte();
                var set = Avx2.CompareEqual(Avx2.And(Avx2.Shuffle(bits, spread), bit), bit);
                var sign = Avx2.Or(Avx2.AndNot(set, Vector256<byte>.AllBitsSet), onesU8).AsSByte(); // +1 set, −1 clear
                int xb = b * 4 + k;
                var sx = Avx2.Sign(Avx.LoadVector256(c->Act.Q + xb * 32), sign);
                var s32 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(onesU8, sx), ones16);
                inner = Fma.MultiplyAdd(Vector256.Create(c->Act.D[xb]), Avx.ConvertToVector256Single(s32), inner);
            }
            acc = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)blk)), inner, acc);
        }
        return IntDot.HSum(acc);
    }

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
