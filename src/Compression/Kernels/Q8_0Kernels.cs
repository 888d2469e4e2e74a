// Q8_0Kernels: decode GEMV for q8_0 — int8 weights times Q8-quantized activations, integer multiply-add.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>y[r] = Σ_blocks d_w·d_x·Σ q_w·q_x, as llama.cpp's <c>ggml_vec_dot_q8_0_q8_0</c>.</summary>
public static unsafe class Q8_0Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0,
            Pick(KernelIsa.Current), Pick4(KernelIsa.Current, KernelIsa.Vnni));

    /// <summary>The four-row kernel for <paramref name="level"/> (null: rows one at a time).</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick4(IsaLevel level, bool vnni) =>
        level == IsaLevel.Scalar ? null : vnni ? &Dot4Vnni : &Dot4Avx2;

    internal static void Dot4Avx2(byte* row, GemvContext* c, float* y) => Dot4(row, c, y, vnni: false);
    internal static void Dot4Vnni(byte* row, GemvContext* c, float* y) => Dot4(row, c, y, vnni: true);

    /// <summary>
    /// Four rows per pass over x, each accumulated exactly as <see cref="DotAvx2"/> does (even blocks, odd blocks, the
    /// same int32 lanes and scale products: the same bits). With VNNI the codes are made unsigned by adding 128 (one
    /// xor), so <c>vpdpbusd</c> takes them as they are onto −128·Σ4 x̂: Σ4 (w+128)·x̂ − 128·Σ4 x̂ = Σ4 w·x̂, exactly.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(byte* row, GemvContext* c, float* y, bool vnni)
    {
        int nb = c->Cols / 32;
        long rb = c->RowBytes;
        byte* r0 = row, r1 = row + rb, r2 = row + 2 * rb, r3 = row + 3 * rb;
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default;
        Vector256<float> o0 = default, o1 = default, o2 = default, o3 = default;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            Step(r0, r1, r2, r3, b, c, vnni, ref e0, ref e1, ref e2, ref e3);
            Step(r0, r1, r2, r3, b + 1, c, vnni, ref o0, ref o1, ref o2, ref o3);
        }
        if (b < nb) Step(r0, r1, r2, r3, b, c, vnni, ref e0, ref e1, ref e2, ref e3);
        y[0] = IntDot.HSum(Avx.Add(e0, o0));
        y[1] = IntDot.HSum(Avx.Add(e1, o1));
        y[2] = IntDot.HSum(Avx.Add(e2, o2));
        y[3] = IntDot.HSum(Avx.Add(e3, o3));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* r0, byte* r1, byte* r2, byte* r3, int b, GemvContext* c, bool vnni,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var xq = Avx.LoadVector256(c->Act.Q + b * 32);
        // −128·Σ4 x̂ = −16 · (8·Σ4 x̂)
        var bias = vnni ? Vector256<int>.Zero - Avx2.ShiftLeftLogical(Avx.LoadVector256(c->Act.Sum4x8 + b * 8), 4) : default;
        var dx = Avx.LoadVector256(c->Act.DLanes + b * 8);
        long off = (long)b * BlockQ8_0.Size;
        a0 = Fma.MultiplyAdd(Scale(r0 + off, dx), Lanes(r0 + off + 2, xq, bias, vnni), a0);
        a1 = Fma.MultiplyAdd(Scale(r1 + off, dx), Lanes(r1 + off + 2, xq, bias, vnni), a1);
        a2 = Fma.MultiplyAdd(Scale(r2 + off, dx), Lanes(r2 + off + 2, xq, bias, vnni), a2);
        a3 = Fma.MultiplyAdd(Scale(r3 + off, dx), Lanes(r3 + off + 2, xq, bias, vnni), a3);
    }

    /// <summary>d_w·d_x in every lane, the fp16 scale broadcast from the conversion table by the load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale(byte* block, Vector256<float> dx) =>
        Avx.Multiply(Avx.BroadcastScalarToVector256(HalfConvert.TablePtr + *(ushort*)block), dx);

    /// <summary>8 lanes of Σ4 w·x̂ for the 32 codes at <paramref name="qs"/>, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lanes(byte* qs, Vector256<sbyte> xq, Vector256<int> bias, bool vnni)
    {
        var w = Avx.LoadVector256((sbyte*)qs);
        if (!vnni) return IntDot.MulSumI8(w, xq);
        var u = Avx2.Xor(w.AsByte(), Vector256.Create((byte)0x80));
        return Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(bias, u, xq));
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
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            var b0 = (BlockQ8_0*)(row + b * BlockQ8_0.Size);
            var b1 = b0 + 1;
            var p0 = IntDot.MulSumI8(Avx.LoadVector256(b0->Qs), Avx.LoadVector256(c->Act.Q + b * 32));
            var p1 = IntDot.MulSumI8(Avx.LoadVector256(b1->Qs), Avx.LoadVector256(c->Act.Q + b * 32 + 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b1) * c->Act.D[b + 1]), p1, acc1);
        }
        if (b < nb)
        {
            var b0 = (BlockQ8_0*)(row + b * BlockQ8_0.Size);
            var p0 = IntDot.MulSumI8(Avx.LoadVector256(b0->Qs), Avx.LoadVector256(c->Act.Q + b * 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
        }
        return IntDot.HSum(Avx.Add(acc0, acc1));
    }

    /// <summary>Two blocks per 512-bit step: the lower half accumulates exactly as DotAvx2's acc0, the upper as acc1.</summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        var acc = Vector512<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            var b0 = (BlockQ8_0*)(row + b * BlockQ8_0.Size);
            var b1 = b0 + 1;
            var w = Vector512.Create(Vector256.Load((sbyte*)b0->Qs), Vector256.Load((sbyte*)b1->Qs));
            var p = IntDot.MulSumI8(w, c->Act.Q + b * 32, c->Act.NegQ + b * 32);
            var scale = Vector512.Create(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]),
                                         Vector256.Create(HalfConvert.ToFloat(*(ushort*)b1) * c->Act.D[b + 1]));
            acc = Avx512F.FusedMultiplyAdd(scale, p, acc);
        }
        var acc0 = acc.GetLower();
        if (b < nb)
        {
            var b0 = (BlockQ8_0*)(row + b * BlockQ8_0.Size);
            var p0 = IntDot.MulSumI8(Avx.LoadVector256(b0->Qs), Avx.LoadVector256(c->Act.Q + b * 32));
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
        }
        return IntDot.HSum(Avx.Add(acc0, acc.GetUpper()));
    }

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ8_0*)(row + b * BlockQ8_0.Size);
            sbyte* xq = c->Act.Q + b * 32;
            int isum = 0;
            for (int j = 0; j < 32; j++) isum += blk->Qs[j] * xq[j];
            sum += HalfConvert.ToFloat(*(ushort*)blk) * c->Act.D[b] * isum;
        }
        return sum;
    }
}
