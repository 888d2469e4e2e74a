// Int8Kernels: decode GEMV for per-channel int8 — int8 weights times Q8 activations, one row scale at the end.
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>y[r] = s_r·Σ_blocks d_x·Σ q_w·q_x (cols a multiple of 32).</summary>
public static unsafe class Int8Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0,
            Pick(KernelIsa.Current));

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        sbyte* w = (sbyte*)(row + sizeof(float));
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            KernelPrefetch.Line(w + b * 32 + c->Ahead);
            var p0 = IntDot.MulSumI8(Avx.LoadVector256(w + b * 32), Avx.LoadVector256(c->Act.Q + b * 32));
            var p1 = IntDot.MulSumI8(Avx.LoadVector256(w + b * 32 + 32), Avx.LoadVector256(c->Act.Q + b * 32 + 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(c->Act.D[b]), p0, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(c->Act.D[b + 1]), p1, acc1);
        }
        if (b < nb)
            acc0 = Fma.MultiplyAdd(Vector256.Create(c->Act.D[b]),
                IntDot.MulSumI8(Avx.LoadVector256(w + b * 32), Avx.LoadVector256(c->Act.Q + b * 32)), acc0);
        return *(float*)row * IntDot.HSum(Avx.Add(acc0, acc1));
    }

    /// <summary>Two blocks per 512-bit step: the lower half accumulates exactly as DotAvx2's acc0, the upper as acc1.</summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        sbyte* w = (sbyte*)(row + sizeof(float));
        var acc = Vector512<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            KernelPrefetch.Line(w + b * 32 + c->Ahead);
            var p = IntDot.MulSumI8(Vector512.Load(w + b * 32), c->Act.Q + b * 32, c->Act.NegQ + b * 32);
            acc = Avx512F.FusedMultiplyAdd(Vector512.Create(Vector256.Create(c->Act.D[b]), Vector256.Create(c->Act.D[b + 1])), p, acc);
        }
        var acc0 = acc.GetLower();
        if (b < nb)
            acc0 = Fma.MultiplyAdd(Vector256.Create(c->Act.D[b]),
                IntDot.MulSumI8(Avx.LoadVector256(w + b * 32), Avx.LoadVector256(c->Act.Q + b * 32)), acc0);
        return *(float*)row * IntDot.HSum(Avx.Add(acc0, acc.GetUpper()));
    }

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        sbyte* w = (sbyte*)(row + sizeof(float));
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            int isum = 0;
            for (int j = 0; j < 32; j++) isum += w[b * 32 + j] * c->Act.Q[b * 32 + j];
            sum += c->Act.D[b] * isum;
        }
        return *(float*)row * sum;
    }
}
