// Q4_0Kernels: decode GEMV for q4_0 — nibbles unpacked in registers, times Q8 activations, integer multiply-add.
using System.Runtime.CompilerServices;
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
            Pick(KernelIsa.Current), Pick4(KernelIsa.Current, KernelIsa.Vnni));

    /// <summary>The four-row kernel for <paramref name="level"/> (null: rows one at a time).</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick4(IsaLevel level, bool vnni) =>
        level == IsaLevel.Scalar ? null : vnni ? &Dot4Vnni : &Dot4Avx2;

    internal static void Dot4Avx2(byte* row, GemvContext* c, float* y) => Dot4(row, c, y, vnni: false);
    internal static void Dot4Vnni(byte* row, GemvContext* c, float* y) => Dot4(row, c, y, vnni: true);

    /// <summary>
    /// Four rows per pass over x, each row accumulated exactly as <see cref="DotAvx2"/> does (even blocks into one
    /// accumulator, odd into another, the same int32 lanes, the same scale products), so the results are the same bits:
    /// x's codes, lane sums and scale are loaded once for four rows, and with VNNI the lanes Σ4 q·x̂ − 8·Σ4 x̂ are one
    /// <c>vpdpbusd</c> onto −8·Σ4 x̂. 256-bit throughout: on CPUs that split 512-bit work over fewer ports this keeps
    /// a third port busy, and it is as fast as the 512-bit form where they do not.
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

    /// <summary>Block <paramref name="b"/> of four rows into their accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* r0, byte* r1, byte* r2, byte* r3, int b, GemvContext* c, bool vnni,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var xq = Avx.LoadVector256(c->Act.Q + b * 32);
        var s4 = Avx.LoadVector256(c->Act.Sum4x8 + b * 8);
        var bias = vnni ? Vector256<int>.Zero - s4 : s4;
        var dx = Avx.LoadVector256(c->Act.DLanes + b * 8);
        long off = (long)b * BlockQ4_0.Size;
        a0 = Fma.MultiplyAdd(Scale(r0 + off, dx), Lanes(r0 + off + 2, xq, bias, vnni), a0);
        a1 = Fma.MultiplyAdd(Scale(r1 + off, dx), Lanes(r1 + off + 2, xq, bias, vnni), a1);
        a2 = Fma.MultiplyAdd(Scale(r2 + off, dx), Lanes(r2 + off + 2, xq, bias, vnni), a2);
        a3 = Fma.MultiplyAdd(Scale(r3 + off, dx), Lanes(r3 + off + 2, xq, bias, vnni), a3);
    }

    /// <summary>d_w·d_x in every lane: the block's fp16 scale broadcast from the conversion table by the load itself,
    /// times x's block scale (the same product, so the same bits, as the scalar multiply then broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale(byte* block, Vector256<float> dx) =>
        Avx.Multiply(Avx.BroadcastScalarToVector256(HalfConvert.TablePtr + *(ushort*)block), dx);

    /// <summary>8 lanes of Σ4 (q−8)·x̂ for the 16 code bytes at <paramref name="qs"/>; <paramref name="bias"/> is
    /// 8·Σ4 x̂ (subtracted) or, with VNNI, its negation (accumulated onto).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lanes(byte* qs, Vector256<sbyte> xq, Vector256<int> bias, bool vnni) =>
        Avx.ConvertToVector256Single(vnni
            ? AvxVnni.MultiplyWideningAndAdd(bias, IntDot.Nibbles32Broadcast(qs), xq)
            : Avx2.Subtract(IntDot.MulSumU8I8(IntDot.Nibbles32Broadcast(qs), xq), bias));

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    /// <remarks>
    /// The codes 0..15 are the unsigned operand of maddubs as they are, and the −8 comes back as the
    /// precomputed 8·Σ4 x̂ per lane: the same int32 lanes as Σ4 (q−8)·x̂, with fewer instructions.
    /// Accumulation order (shared with DotAvx512): even blocks into acc0, odd into acc1, HSum(acc0 + acc1).
    /// </remarks>
    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        var acc0 = Vector256<float>.Zero;
        var acc1 = Vector256<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var b1 = (BlockQ4_0*)(row + (b + 1) * BlockQ4_0.Size);
            var p0 = Lanes(IntDot.Nibbles32(b0->Qs), c->Act.Q + b * 32, c->Act.Sum4x8 + b * 8);
            var p1 = Lanes(IntDot.Nibbles32(b1->Qs), c->Act.Q + b * 32 + 32, c->Act.Sum4x8 + b * 8 + 8);
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
            acc1 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b1) * c->Act.D[b + 1]), p1, acc1);
        }
        if (b < nb)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var p0 = Lanes(IntDot.Nibbles32(b0->Qs), c->Act.Q + b * 32, c->Act.Sum4x8 + b * 8);
            acc0 = Fma.MultiplyAdd(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]), p0, acc0);
        }
        return IntDot.HSum(Avx.Add(acc0, acc1));
    }

    /// <summary>8 lanes of Σ4 (q−8)·x̂ = Σ4 q·x̂ − 8·Σ4 x̂, as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lanes(Vector256<byte> q, sbyte* x, int* sum4x8) =>
        Avx.ConvertToVector256Single(Avx2.Subtract(IntDot.MulSumU8I8(q, Avx.LoadVector256(x)), Avx.LoadVector256(sum4x8)));

    /// <summary>Two blocks per 512-bit step: the lower half accumulates exactly as DotAvx2's acc0, the upper as acc1.</summary>
    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        var acc = Vector512<float>.Zero;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var b1 = (BlockQ4_0*)(row + (b + 1) * BlockQ4_0.Size);
            var p = Avx512F.ConvertToVector512Single(
                IntDot.MulSumU8I8(IntDot.Nibbles64(b0->Qs, b1->Qs), Vector512.Load(c->Act.Q + b * 32)) - Vector512.Load(c->Act.Sum4x8 + b * 8));
            var scale = Vector512.Create(Vector256.Create(HalfConvert.ToFloat(*(ushort*)b0) * c->Act.D[b]),
                                         Vector256.Create(HalfConvert.ToFloat(*(ushort*)b1) * c->Act.D[b + 1]));
            acc = Avx512F.FusedMultiplyAdd(scale, p, acc);
        }
        var acc0 = acc.GetLower();
        if (b < nb)
        {
            var b0 = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            var p0 = Lanes(IntDot.Nibbles32(b0->Qs), c->Act.Q + b * 32, c->Act.Sum4x8 + b * 8);
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
