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
            Pick(KernelIsa.Current), FourRowDot<Block>.Pick(KernelIsa.Current, KernelIsa.Vnni));

    /// <summary>q8_0 for <see cref="FourRowDot{TBlock}"/>. With VNNI the codes are made unsigned by adding 128 (one xor),
    /// so <c>vpdpbusd</c> takes them as they are onto −128·Σ4 x̂: Σ4 (w+128)·x̂ − 128·Σ4 x̂ = Σ4 w·x̂, exactly.</summary>
    private struct Block : IQ8PairedBlock
    {
        public static int Size => BlockQ8_0.Size;

        /// <summary>−128·Σ4 x̂ = −16 · (8·Σ4 x̂) with VNNI; nothing without.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Bias(GemvContext* c, int b, bool vnni) => SignedBias(c, b, vnni);

        public static float* ScaleLanes(GemvContext* c, bool vnni) => c->Act.DLanes;
        public static bool VnniExact(GemvContext* c) => true;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Lanes(byte* codes, Vector256<sbyte> xq, Vector256<int> bias, bool vnni) => Q8_0Kernels.Lanes(codes, xq, bias, vnni);
    }

    /// <summary>8 lanes of Σ4 w·x̂ for the 32 signed codes at <paramref name="qs"/>, as floats: maddubs of |w| with ±x̂, or
    /// with VNNI <c>vpdpbusd</c> of w + 128 onto <paramref name="bias"/> = −128·Σ4 x̂ (<see cref="Block.Bias"/>) — the same
    /// int32 sums. Shared with int8's four-row kernel.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Lanes(byte* qs, Vector256<sbyte> xq, Vector256<int> bias, bool vnni)
    {
        var w = Avx.LoadVector256((sbyte*)qs);
        if (!vnni) return IntDot.MulSumI8(w, xq);
        var u = Avx2.Xor(w.AsByte(), Vector256.Create((byte)0x80));
        return Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(bias, u, xq));
    }

    /// <summary>−128·Σ4 x̂ for activation block <paramref name="b"/> with VNNI (= −16 · (8·Σ4 x̂)); nothing without.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<int> SignedBias(GemvContext* c, int b, bool vnni) =>
        vnni ? Vector256<int>.Zero - Avx2.ShiftLeftLogical(Avx.LoadVector256(c->Act.Sum4x8 + b * 8), 4) : default;

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
