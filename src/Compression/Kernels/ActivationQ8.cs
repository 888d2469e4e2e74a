// ActivationQ8: activations quantized on the fly to Q8_0-style blocks of 32 for integer dot products.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// x quantized as llama.cpp's AVX2 <c>quantize_row_q8_0</c> does: per block of 32, <c>d = amax/127</c>
/// rounded to fp16, <c>q = round_to_even(x·127/amax)</c>. Also keeps <c>s = d·Σq</c> per block, which
/// asymmetric formats (int4) need for their zero-point term. The memory is per-thread scratch.
/// </summary>
public readonly unsafe struct ActivationQ8
{
    public const int Block = 32;
    /// <summary>cols int8 codes.</summary>
    public readonly sbyte* Q;
    /// <summary>cols/32 block scales (fp16-rounded values).</summary>
    public readonly float* D;
    /// <summary>cols/32 block sums d·Σq.</summary>
    public readonly float* S;
    /// <summary>cols codes negated (−q; q is never −128), so kernels can pick ±q with one blend.</summary>
    public readonly sbyte* NegQ;
    /// <summary>Each block scale repeated 8 times (cols/4 floats): block b's is one 256-bit load at 8b,
    /// blocks b and b+1 one 512-bit load — the per-lane scale vectors of the AVX-512 kernels.</summary>
    public readonly float* DLanes;
    /// <summary>8·(sum of each 4 consecutive codes) (cols/4 ints): the bias term of offset-binary
    /// formats, so q4_0 can multiply its unsigned codes directly, Σ(q−8)·x = Σq·x − 8·Σx, lane by lane.</summary>
    public readonly int* Sum4x8;
    /// <summary><see cref="DLanes"/> with the upper four lanes of each block divided by 16 (cols/4 floats): the scale
    /// lanes of q4_0's VNNI kernels, whose upper lanes hold 16× the high-nibble sums (codes masked in place, not
    /// shifted). d/16 is exact and d_w·(d/16) = (d_w·d)/16 exactly while it stays a normal float, which
    /// <see cref="Hi16Exact"/> records.</summary>
    public readonly float* DLanesHi16;
    /// <summary>−<see cref="Sum4x8"/> with the upper four lanes of each block times 16 (cols/4 ints): the bias those
    /// kernels accumulate onto.</summary>
    public readonly int* NegSum4x8Hi16;
    /// <summary>Every block scale is 0 or in [2⁻⁹⁸, 2¹⁰⁰), so for every fp16 d_w (0 or 2⁻²⁴ ≤ |d_w| ≤ 65504) d_w·d/16
    /// stays a normal float and d_w·d does not overflow: the ×16 lanes give exactly the bits of the shifted ones.</summary>
    public readonly bool Hi16Exact;
    public readonly int Cols;

    /// <summary>The block scales for which <see cref="Hi16Exact"/> holds: [2⁻⁹⁸, 2¹⁰⁰).</summary>
    internal static readonly float Hi16MinScale = MathF.ScaleB(1, -98), Hi16MaxScale = MathF.ScaleB(1, 100);

    private ActivationQ8(sbyte* q, float* d, float* s, sbyte* negQ, float* dLanes, int* sum4x8, float* dLanesHi16,
        int* negSum4x8Hi16, bool hi16Exact, int cols)
    {
        Q = q; D = d; S = s; NegQ = negQ; DLanes = dLanes; Sum4x8 = sum4x8; DLanesHi16 = dLanesHi16;
        NegSum4x8Hi16 = negSum4x8Hi16; Hi16Exact = hi16Exact; Cols = cols;
    }

    /// <summary>Quantizes <paramref name="x"/> (length a multiple of 32) into this thread's scratch slot 0.</summary>
    public static ActivationQ8 Quantize(ReadOnlySpan<float> x)
    {
        int cols = x.Length;
        if (cols % Block != 0) throw new ArgumentException($"activation length {cols} is not a multiple of {Block}");
        int nb = cols / Block;
        // Layout: DLanes (cols bytes, 64-byte aligned), Sum4x8 (cols bytes), Q, NegQ, DLanesHi16, NegSum4x8Hi16
        // (cols bytes each), D, S.
        byte* mem = Scratch.Get(0, (nuint)(6 * cols + 8 * nb + 64));
        float* dLanes = (float*)mem, d = (float*)(mem + 6 * cols), sums = d + nb, dLanesHi16 = (float*)(mem + 4 * cols);
        int* sum4x8 = (int*)(mem + cols), negSum4x8Hi16 = (int*)(mem + 5 * cols);
        sbyte* q = (sbyte*)(mem + 2 * cols), negQ = (sbyte*)(mem + 3 * cols);
        bool hi16Exact = true;
        bool simd = KernelIsa.Current >= IsaLevel.Avx2; // the AVX2 block equals the scalar one exactly
        var hi16 = Vector256.Create(1f, 1f, 1f, 1f, 1f / 16, 1f / 16, 1f / 16, 1f / 16);
        var neg16 = Vector256.Create(-1, -1, -1, -1, -16, -16, -16, -16);
        fixed (float* px = x)
        {
            for (int b = 0; b < nb; b++)
            {
                sbyte* qb = q + b * Block;
                if (simd) QuantizeBlockAvx2(px + b * Block, qb, out d[b], out sums[b]);
                else QuantizeBlockScalar(px + b * Block, qb, out d[b], out sums[b]);
                (Vector256<sbyte>.Zero - Vector256.Load(qb)).Store(negQ + b * Block);
                var dv = Vector256.Create(d[b]);
                dv.Store(dLanes + b * 8);
                (dv * hi16).Store(dLanesHi16 + b * 8);
                if (simd) IntDot.MulSumU8I8(Vector256.Create((byte)8), Vector256.Load(qb)).Store(sum4x8 + b * 8);
                else
                    for (int j = 0; j < 8; j++) sum4x8[b * 8 + j] = 8 * (qb[4 * j] + qb[4 * j + 1] + qb[4 * j + 2] + qb[4 * j + 3]);
                (Vector256.Load(sum4x8 + b * 8) * neg16).Store(negSum4x8Hi16 + b * 8);
                if (d[b] != 0 && !(d[b] >= Hi16MinScale && d[b] < Hi16MaxScale) && !float.IsNaN(d[b])) hi16Exact = false;
            }
        }
        return new ActivationQ8(q, d, sums, negQ, dLanes, sum4x8, dLanesHi16, negSum4x8Hi16, hi16Exact, cols);
    }

    /// <summary>Scalar definition of one block (the SIMD path must give identical codes and scales).</summary>
    internal static void QuantizeBlockScalar(float* x, sbyte* q, out float d, out float s)
    {
        float amax = 0;
        for (int i = 0; i < Block; i++) amax = MathF.Max(amax, MathF.Abs(x[i]));
        float id = amax != 0 ? 127f / amax : 0f;
        int sum = 0;
        for (int i = 0; i < Block; i++)
        {
            int v = (int)MathF.Round(x[i] * id, MidpointRounding.ToEven);
            q[i] = (sbyte)v;
            sum += v;
        }
        d = HalfConvert.RoundToHalf(amax / 127f);
        s = d * sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void QuantizeBlockAvx2(float* x, sbyte* q, out float d, out float s)
    {
        var signMask = Vector256.Create(0x7fffffff).AsSingle();
        var v0 = Avx.LoadVector256(x); var v1 = Avx.LoadVector256(x + 8);
        var v2 = Avx.LoadVector256(x + 16); var v3 = Avx.LoadVector256(x + 24);
        var m = Avx.Max(Avx.Max(Avx.And(v0, signMask), Avx.And(v1, signMask)),
                        Avx.Max(Avx.And(v2, signMask), Avx.And(v3, signMask)));
        var m128 = Sse.Max(m.GetLower(), m.GetUpper());
        m128 = Sse.Max(m128, Sse.MoveHighToLow(m128, m128));
        m128 = Sse.MaxScalar(m128, Sse.Shuffle(m128, m128, 1));
        float amax = m128.ToScalar();
        float id = amax != 0 ? 127f / amax : 0f;
        var vid = Vector256.Create(id);
        var i0 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(v0, vid)));
        var i1 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(v1, vid)));
        var i2 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(v2, vid)));
        var i3 = Avx.ConvertToVector256Int32(Avx.RoundToNearestInteger(Avx.Multiply(v3, vid)));
        var sum = Avx2.Add(Avx2.Add(i0, i1), Avx2.Add(i2, i3));
        // pack 32-bit -> 16-bit -> 8-bit; the packs interleave 128-bit lanes, undone by a permute.
        var p01 = Avx2.PackSignedSaturate(i0, i1);
        var p23 = Avx2.PackSignedSaturate(i2, i3);
        var p = Avx2.PackSignedSaturate(p01, p23);
        p = Avx2.PermuteVar8x32(p.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
        Avx.Store(q, p);
        d = HalfConvert.RoundToHalf(amax / 127f);
        s = d * Vector256.Sum(sum);
    }
}
