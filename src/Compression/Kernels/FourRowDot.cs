// FourRowDot: the four-row decode kernel shared by the 32-weight block formats (q4_0, q8_0) — one pass over x for four rows.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// A block of 32 weights that starts with its fp16 scale and pairs with one Q8 activation block: what
/// <see cref="FourRowDot{TBlock}"/> needs to know of a format.
/// </summary>
internal unsafe interface IQ8PairedBlock
{
    /// <summary>Bytes per block (scale included).</summary>
    static abstract int Size { get; }

    /// <summary>What the lanes of activation block <paramref name="b"/> are computed against, once for all four rows
    /// (e.g. the bias of offset-binary codes).</summary>
    static abstract Vector256<int> Bias(GemvContext* c, int b, bool vnni);

    /// <summary>The activation scale lanes (8 per block) the lanes are multiplied with, with or without VNNI.</summary>
    static abstract float* ScaleLanes(GemvContext* c, bool vnni);

    /// <summary>Whether the VNNI lanes give exactly the bits of the AVX2 ones for these activations; when not, the
    /// AVX2 lanes are used.</summary>
    static abstract bool VnniExact(GemvContext* c);

    /// <summary>8 lanes of Σ4 w·x̂ for the codes at <paramref name="codes"/>, as floats — the same lanes as the format's
    /// one-row AVX2 kernel, with or without VNNI.</summary>
    static abstract Vector256<float> Lanes(byte* codes, Vector256<sbyte> xq, Vector256<int> bias, bool vnni);
}

/// <summary>
/// Four rows per pass over x, each accumulated exactly as the format's one-row AVX2 kernel does (even blocks into one
/// accumulator, odd into another, the same int32 lanes, the same scale products, then HSum of their sum), so every row
/// gets the same bits: x's codes, bias and scale are loaded once for four rows. 256-bit throughout, which also lets
/// AVX-VNNI's <c>vpdpbusd</c> in; on CPUs that split 512-bit work over fewer ports this keeps a third port busy.
/// </summary>
internal static unsafe class FourRowDot<TBlock> where TBlock : struct, IQ8PairedBlock
{
    public static void Avx2(byte* row, GemvContext* c, float* y) => Dot4(row, c, y, vnni: false);
    public static void Vnni(byte* row, GemvContext* c, float* y)
    {
        if (TBlock.VnniExact(c)) Dot4(row, c, y, vnni: true);
        else Dot4(row, c, y, vnni: false);
    }

    /// <summary>The kernel for <paramref name="level"/> (null at the scalar level: rows one at a time).</summary>
    public static delegate*<byte*, GemvContext*, float*, void> Pick(IsaLevel level, bool vnni) =>
        level == IsaLevel.Scalar ? null : vnni ? &Vnni : &Avx2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(byte* row, GemvContext* c, float* y, bool vnni)
    {
        float* dLanes = TBlock.ScaleLanes(c, vnni);
        int nb = c->Cols / 32;
        long rb = c->RowBytes;
        byte* r0 = row, r1 = row + rb, r2 = row + 2 * rb, r3 = row + 3 * rb;
        Vector256<float> e0 = default, e1 = default, e2 = default, e3 = default;
        Vector256<float> o0 = default, o1 = default, o2 = default, o3 = default;
        int b = 0;
        long ahead = c->Ahead;
        for (; b + 1 < nb; b += 2)
        {
            // One pass ahead: the next four rows' lines at this position — every line of the two blocks' bytes, which
            // for q8_0 (68 bytes) is two (8B q8_0, the sweep's 225 GEMVs alternated in one process against the first
            // line alone: 37.1–38.6 → 48.3–51.8 GB/s; the GEMVs then run as fast as a plain read of the same weights).
            long pf = (long)b * TBlock.Size + ahead;
            KernelPrefetch.Step(r0 + pf, 2 * TBlock.Size); KernelPrefetch.Step(r1 + pf, 2 * TBlock.Size);
            KernelPrefetch.Step(r2 + pf, 2 * TBlock.Size); KernelPrefetch.Step(r3 + pf, 2 * TBlock.Size);
            Step(r0, r1, r2, r3, b, c, dLanes, vnni, ref e0, ref e1, ref e2, ref e3);
            Step(r0, r1, r2, r3, b + 1, c, dLanes, vnni, ref o0, ref o1, ref o2, ref o3);
        }
        if (b < nb) Step(r0, r1, r2, r3, b, c, dLanes, vnni, ref e0, ref e1, ref e2, ref e3);
        y[0] = IntDot.HSum(Avx.Add(e0, o0));
        y[1] = IntDot.HSum(Avx.Add(e1, o1));
        y[2] = IntDot.HSum(Avx.Add(e2, o2));
        y[3] = IntDot.HSum(Avx.Add(e3, o3));
    }

    /// <summary>Block <paramref name="b"/> of four rows into their accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step(byte* r0, byte* r1, byte* r2, byte* r3, int b, GemvContext* c, float* dLanes, bool vnni,
        ref Vector256<float> a0, ref Vector256<float> a1, ref Vector256<float> a2, ref Vector256<float> a3)
    {
        var xq = Avx.LoadVector256(c->Act.Q + b * 32);
        var bias = TBlock.Bias(c, b, vnni);
        var dx = Avx.LoadVector256(dLanes + b * 8);
        long off = (long)b * TBlock.Size;
        a0 = Fma.MultiplyAdd(Scale(r0 + off, dx), TBlock.Lanes(r0 + off + 2, xq, bias, vnni), a0);
        a1 = Fma.MultiplyAdd(Scale(r1 + off, dx), TBlock.Lanes(r1 + off + 2, xq, bias, vnni), a1);
        a2 = Fma.MultiplyAdd(Scale(r2 + off, dx), TBlock.Lanes(r2 + off + 2, xq, bias, vnni), a2);
        a3 = Fma.MultiplyAdd(Scale(r3 + off, dx), TBlock.Lanes(r3 + off + 2, xq, bias, vnni), a3);
    }

    /// <summary>d_w·d_x in every lane: the block's fp16 scale broadcast from the conversion table by the load itself,
    /// times x's block scale (the same product, so the same bits, as the scalar multiply then broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale(byte* block, Vector256<float> dx) =>
        Avx.Multiply(Avx.BroadcastScalarToVector256(HalfConvert.TablePtr + *(ushort*)block), dx);
}
