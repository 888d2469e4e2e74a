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
            Pick(KernelIsa.Current), Pick4(KernelIsa.Current, KernelIsa.Vnni));

    /// <summary>The four-row kernel at AVX2 and above (with AVX-VNNI's <c>vpdpbusd</c> where the CPU has it); none for scalar.</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick4(IsaLevel level, bool vnni) =>
        level == IsaLevel.Scalar ? null : vnni ? &Dot4Vnni : &Dot4Avx2;

    internal static void Dot4Avx2(byte* row, GemvContext* c, float* y) => Dot4<NoVnni>(row, c, y);
    internal static void Dot4Vnni(byte* row, GemvContext* c, float* y) => Dot4<WithVnni>(row, c, y);

    /// <summary>
    /// <see cref="DotAvx2"/> for four consecutive rows: x's codes and block scale are loaded once for four rows, and each
    /// row accumulates as the one-row kernel does (even blocks into one accumulator, odd into another, the same int32
    /// lanes — from maddubs, or exactly the same from <c>vpdpbusd</c> — the same scale), so each row gets its bits. The
    /// one-row kernels load as much of x as of the weights; the 512-bit one also spends a compare and a blend per step.
    /// </summary>
    private static void Dot4<TVnni>(byte* row, GemvContext* c, float* y) where TVnni : struct, IVnniChoice
    {
        bool vnni = TVnni.On;
        int nb = c->Cols / 32;
        long rb = c->RowBytes, ahead = c->Ahead;
        byte* w0 = row + sizeof(float), w1 = w0 + rb, w2 = w0 + 2 * rb, w3 = w0 + 3 * rb;
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default;
        Vector256<float> o0 = default, o1 = default, o2 = default, o3 = default;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            long off = b * 32L;
            KernelPrefetch.Line(w0 + off + ahead); KernelPrefetch.Line(w1 + off + ahead);
            KernelPrefetch.Line(w2 + off + ahead); KernelPrefetch.Line(w3 + off + ahead);
            Step(w0 + off, w1 + off, w2 + off, w3 + off, b, c, vnni, ref e0, ref e1, ref e2, ref e3);
            Step(w0 + off + 32, w1 + off + 32, w2 + off + 32, w3 + off + 32, b + 1, c, vnni, ref o0, ref o1, ref o2, ref o3);
        }
        if (b < nb)
        {
            long off = b * 32L;
            Step(w0 + off, w1 + off, w2 + off, w3 + off, b, c, vnni, ref e0, ref e1, ref e2, ref e3);
        }
        y[0] = *(float*)row * IntDot.HSum(Avx.Add(e0, o0));
        y[1] = *(float*)(row + rb) * IntDot.HSum(Avx.Add(e1, o1));
        y[2] = *(float*)(row + 2 * rb) * IntDot.HSum(Avx.Add(e2, o2));
        y[3] = *(float*)(row + 3 * rb) * IntDot.HSum(Avx.Add(e3, o3));
    }

    /// <summary>Activation block <paramref name="b"/> against the four rows' codes at <paramref name="p0"/>…<paramref name="p3"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* p0, byte* p1, byte* p2, byte* p3, int b, GemvContext* c, bool vnni,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var xq = Avx.LoadVector256(c->Act.Q + b * 32);
        var bias = Q8_0Kernels.SignedBias(c, b, vnni);
        var d = Vector256.Create(c->Act.D[b]);
        a0 = Fma.MultiplyAdd(d, Q8_0Kernels.Lanes(p0, xq, bias, vnni), a0);
        a1 = Fma.MultiplyAdd(d, Q8_0Kernels.Lanes(p1, xq, bias, vnni), a1);
        a2 = Fma.MultiplyAdd(d, Q8_0Kernels.Lanes(p2, xq, bias, vnni), a2);
        a3 = Fma.MultiplyAdd(d, Q8_0Kernels.Lanes(p3, xq, bias, vnni), a3);
    }

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
