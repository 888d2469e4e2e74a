// TernaryDot: the block dot product both ternary kernels (tq1_0, tq2_0) share once they have unpacked a block's codes.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// As llama.cpp's <c>ggml_vec_dot_tq{1,2}_0_q8_K</c>: activations are Q8_K (one float scale per 256, the block size of
/// the weights), so a block's whole sum is integer — Σ w·q = Σ code·q − Σ q with codes w + 1 ∈ {0, 1, 2} — and costs
/// one float multiply: <c>isum·(d_x·d_w)</c>, added block after block. Every ISA path computes the same integer and
/// the same float expression in the same order, so scalar, AVX2 and AVX-512 results are bit-identical.
/// Each kernel unpacks group g (weights 32g..32g+31 of a block) to 32 code bytes, byte j holding weight 32g + j.
/// </summary>
internal static unsafe class TernaryDot
{
    /// <summary>One block's contribution from its 8 groups of codes (AVX2: maddubs to int16 — at most 8·2·3·127, no saturation).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Block(GemvContext* c, int b, float dw,
        Vector256<byte> k0, Vector256<byte> k1, Vector256<byte> k2, Vector256<byte> k3,
        Vector256<byte> k4, Vector256<byte> k5, Vector256<byte> k6, Vector256<byte> k7)
    {
        sbyte* q = c->ActK.Q + b * ActivationQ8K.Block;
        var s = Avx2.MultiplyAddAdjacent(k0, Avx.LoadVector256(q));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k1, Avx.LoadVector256(q + 32)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k2, Avx.LoadVector256(q + 64)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k3, Avx.LoadVector256(q + 96)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k4, Avx.LoadVector256(q + 128)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k5, Avx.LoadVector256(q + 160)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k6, Avx.LoadVector256(q + 192)));
        s = Avx2.Add(s, Avx2.MultiplyAddAdjacent(k7, Avx.LoadVector256(q + 224)));
        int isum = Vector256.Sum(Avx2.MultiplyAddAdjacent(s, Vector256.Create((short)1))) - c->ActK.Sum[b];
        return isum * (c->ActK.D[b] * dw);
    }

    /// <summary>The AVX-512 form: two groups per register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Block512(GemvContext* c, int b, float dw,
        Vector256<byte> k0, Vector256<byte> k1, Vector256<byte> k2, Vector256<byte> k3,
        Vector256<byte> k4, Vector256<byte> k5, Vector256<byte> k6, Vector256<byte> k7)
    {
        sbyte* q = c->ActK.Q + b * ActivationQ8K.Block;
        var s = Avx512BW.MultiplyAddAdjacent(Vector512.Create(k0, k1), Vector512.Load(q));
        s = Avx512BW.Add(s, Avx512BW.MultiplyAddAdjacent(Vector512.Create(k2, k3), Vector512.Load(q + 64)));
        s = Avx512BW.Add(s, Avx512BW.MultiplyAddAdjacent(Vector512.Create(k4, k5), Vector512.Load(q + 128)));
        s = Avx512BW.Add(s, Avx512BW.MultiplyAddAdjacent(Vector512.Create(k6, k7), Vector512.Load(q + 192)));
        int isum = Vector512.Sum(Avx512BW.MultiplyAddAdjacent(s, Vector512.Create((short)1))) - c->ActK.Sum[b];
        return isum * (c->ActK.D[b] * dw);
    }

    /// <summary>Scalar reference of one block from its 256 weights w ∈ {−1, 0, 1} (2 for tq2_0's unused code 3).</summary>
    public static float BlockScalar(GemvContext* c, int b, float dw, sbyte* w)
    {
        sbyte* q = c->ActK.Q + b * ActivationQ8K.Block;
        int isum = 0;
        for (int j = 0; j < ActivationQ8K.Block; j++) isum += w[j] * q[j];
        return isum * (c->ActK.D[b] * dw);
    }
}
