// Q4_0Kernels: decode GEMV for q4_0 — nibbles unpacked in registers, times Q8 activations, integer multiply-add.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>y[r] = Σ_blocks d_w·d_x·Σ (q_w−8)·q_x, as llama.cpp's <c>ggml_vec_dot_q4_0_q8_0</c>.</summary>
public static unsafe class Q4_0Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0,
            Avx2.IsSupported && Fma.IsSupported ? &DotAvx2 : &DotScalar);

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        var eight = Vector256.Create((sbyte)8);
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var b1 = (BlockQ4_0*)(row + (b + 1) * BlockQ4_0.Size);
            var w0 = Avx2.Subtract(IntDot.Nibbles32(b0->Qs).AsSByte(), eight);
            var w1 = Avx2.Subtract(IntDot.Nibbles32(b1->Qs).AsSByte(), eight);
            var p0 = IntDot.MulSumI8(w0, Avx.LoadVector256(c->Act.Q + b * 32));
            var p1 = IntDot.MulSumI8(w1, Avx.LoadVector256(c->Act.Q + b * 32 + 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b1) * c->Act.D[b + 1]), p1, acc1);
        }
        if (b < nb)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var w0 = Avx2.Subtract(IntDot.Nibbles32(b0->Qs).AsSByte(), eight);
            var p0 = IntDot.MulSumI8(w0, Avx.LoadVector256(c->Act.Q + b * 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
        }
        return IntDot.HSum(Avx.Add(acc0, acc1));
    }

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            sbyte* xq = c->Act.Q + b * 32;
            int isum = 0;
            for (int j = 0; j < 16; j++)
                isum += ((blk->Qs[j] & 0x0f) - 8) * xq[j] + ((blk->Qs[j] >> 4) - 8) * xq[j + 16];
            sum += HalfConvert.ToFloat(*(ushort*)blk) * c->Act.D[b] * isum;
        }
        return sum;
    }
}
