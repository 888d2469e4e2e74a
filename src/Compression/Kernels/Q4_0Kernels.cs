// Q4_0Kernels: decode GEMV for q4_0 — nibbles unpacked in registers, times Q8 activations, integer multiply-add.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>y[r] = Σ_blocks d_w·d_x·Σ (q_w−8)·q_x, as llama.cpp's <c>ggml_vec_dot_q4_0_q8_0</c>.</summary>
public static unsafe partial class Q4_0Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Gemv(f, packed, null, rows, cols, x, y);

    /// <summary>The GEMV, its full sixteen-row groups read from <paramref name="layout"/> (<see cref="WriteLayout"/>) when
    /// given and the CPU has AVX2: then every row gets the scalar reference's bits, the rows past the last group too
    /// (<see cref="DotExactAvx2"/>).</summary>
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, byte* layout, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        var level = KernelIsa.Current;
        if (layout != null && rows >= 16 && level >= IsaLevel.Avx2)
        {
            bool vnni = KernelIsa.Vnni;
            GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0, &DotExactAvx2, dot4: null,
                PickLayout16(vnni), PickLayoutPrepare(vnni), layout);
            return;
        }
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0,
            Pick(level), FourRowDot<Block>.Pick(level, KernelIsa.Vnni));
    }

    /// <summary>q4_0 for <see cref="FourRowDot{TBlock}"/>: the codes 0..15 are maddubs' unsigned operand as they are, and
    /// the −8 is the bias 8·Σ4 x̂ (subtracted), or with VNNI its negation, which <c>vpdpbusd</c> accumulates onto.</summary>
    private struct Block : IQ8PairedBlock
    {
        public static int Size => BlockQ4_0.Size;

        /// <summary>8·Σ4 x̂ (subtracted); with VNNI −8·Σ4 x̂, the upper four lanes ×16 (accumulated onto).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Bias(GemvContext* c, int b, bool vnni) =>
            Avx.LoadVector256((vnni ? c->Act.NegSum4x8Hi16 : c->Act.Sum4x8) + b * 8);

        /// <summary>With VNNI the upper lanes hold 16× the high-nibble sums, so their scale lanes are d/16.</summary>
        public static float* ScaleLanes(GemvContext* c, bool vnni) => vnni ? c->Act.DLanesHi16 : c->Act.DLanes;

        public static bool VnniExact(GemvContext* c) => c->Act.Hi16Exact;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Lanes(byte* codes, Vector256<sbyte> xq, Vector256<int> bias, bool vnni) => Q4_0Kernels.Lanes(codes, xq, bias, vnni);
    }

    /// <summary>The block's 16 code bytes in both halves, the lower half masked to the low nibbles and the upper to the
    /// high nibbles in place (16× their value: one AND, no shift).</summary>
    private static readonly Vector256<byte> NibbleMasks = Vector256.Create(
        Vector128.Create((byte)0x0f), Vector128.Create((byte)0xf0));

    /// <summary>8 lanes of Σ4 (q−8)·x̂ for the 16 code bytes at <paramref name="qs"/>; <paramref name="bias"/> is
    /// 8·Σ4 x̂ (subtracted) or, with VNNI, its negation with the upper lanes ×16 (accumulated onto) — the upper lanes
    /// then hold 16·Σ4 (q−8)·x̂ (|·| ≤ 65,024, exact as a float), which <see cref="Block.ScaleLanes"/> divides back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Lanes(byte* qs, Vector256<sbyte> xq, Vector256<int> bias, bool vnni) =>
        Avx.ConvertToVector256Single(vnni
            ? AvxVnni.MultiplyWideningAndAdd(bias, Avx2.And(Avx2.BroadcastVector128ToVector256(qs), NibbleMasks), xq)
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
    private static Vector256<float> Lanes(Vector256<byte> q, sbyte* x, int* sum4x8) => Avx.ConvertToVector256Single(IntLanes(q, x, sum4x8));

    /// <summary>8 lanes of Σ4 (q−8)·x̂ = Σ4 q·x̂ − 8·Σ4 x̂, exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> IntLanes(Vector256<byte> q, sbyte* x, int* sum4x8) =>
        Avx2.Subtract(IntDot.MulSumU8I8(q, Avx.LoadVector256(x)), Avx.LoadVector256(sum4x8));

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

    /// <summary>One row from the file in <see cref="DotScalar"/>'s order, so with its bits — the rows a decode layout's
    /// sixteen-row groups leave over: each block's integer sum in a vector, the float steps as the reference's.</summary>
    internal static float DotExactAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 32;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
            int isum = Vector256.Sum(IntLanes(IntDot.Nibbles32(blk->Qs), c->Act.Q + b * 32, c->Act.Sum4x8 + b * 8));
            sum += HalfConvert.ToFloat(*(ushort*)blk) * c->Act.D[b] * isum;
        }
        return sum;
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
