// TiledGemmKernels: the register-blocked FMA micro-kernels of the prefill GEMM, over a row-pair-packed weight tile.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Compression.Kernels;

/// <summary>
/// Each output keeps the reference order (one 8-lane accumulator over k in steps of 8, see
/// <see cref="TiledGemmReference"/>); the kernels only choose how many outputs run side by side.
/// Weight layout, per group of 8 rows: for each k-step s, 4 row pairs × 16 floats
/// [row 2q: k = 8s..8s+7 | row 2q+1: the same k] — one aligned 512-bit load per pair, 256 contiguous bytes per step.
/// Accumulators of a group live in <c>acc</c> between calls as [token][pair][16 floats], so a k-block can
/// stop and resume without changing a bit (a float stored and reloaded is the same float).
/// </summary>
internal static unsafe class TiledGemmKernels
{
    /// <summary>Rows per group (4 pairs: one zmm of weights per pair).</summary>
    public const int GroupRows = 8;
    /// <summary>Tokens per full panel: 6 tokens × 4 pairs = 24 zmm accumulators, 4 + 6 loads per 24 FMAs.</summary>
    public const int PanelTokens = 6;

    /// <summary>
    /// Tokens of the panel starting at <paramref name="t0"/> when <paramref name="n4"/> (a multiple of 4) tokens are cut
    /// into panels of 6 and 4: 6s, then a last 4 (n4 % 6 == 4) or a last 4 + 4 (n4 % 6 == 2), never a slow panel of 2.
    /// </summary>
    public static int PanelSize(int t0, int n4)
    {
        int left = n4 - t0;
        return left == 8 && n4 % 6 == 2 ? 4 : Math.Min(PanelTokens, left);
    }
    /// <summary>Floats per k-step of one group.</summary>
    public const int StepFloats = 64;
    /// <summary>Floats of accumulator per group and panel.</summary>
    public const int AccFloats = PanelTokens * 4 * 16;

    /// <summary>
    /// AVX-512: <paramref name="tm"/> tokens (rows of x at stride <paramref name="ldx"/>) × one group of 8 weight rows,
    /// <paramref name="steps"/> k-steps of 8. Each zmm holds two outputs: token t with rows 2q and 2q+1.
    /// </summary>
    public static void Avx512(float* x, int ldx, float* w, int steps, float* acc, bool first, int tm)
    {
        if (tm == PanelTokens) { Avx512Panel6(x, ldx, w, steps, acc, first); return; }
        if (tm == 4) { Avx512Panel4(x, ldx, w, steps, acc, first); return; }
        for (int t = 0; t < tm; t++) Avx512Token(x + t * ldx, w, steps, acc + t * 64, first);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Panel6(float* x, int ldx, float* w, int steps, float* acc, bool first)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default,
                         a10 = default, a11 = default, a12 = default, a13 = default,
                         a20 = default, a21 = default, a22 = default, a23 = default,
                         a30 = default, a31 = default, a32 = default, a33 = default,
                         a40 = default, a41 = default, a42 = default, a43 = default,
                         a50 = default, a51 = default, a52 = default, a53 = default;
        if (!first)
        {
            a00 = Load(acc, 0); a01 = Load(acc, 1); a02 = Load(acc, 2); a03 = Load(acc, 3);
            a10 = Load(acc, 4); a11 = Load(acc, 5); a12 = Load(acc, 6); a13 = Load(acc, 7);
            a20 = Load(acc, 8); a21 = Load(acc, 9); a22 = Load(acc, 10); a23 = Load(acc, 11);
            a30 = Load(acc, 12); a31 = Load(acc, 13); a32 = Load(acc, 14); a33 = Load(acc, 15);
            a40 = Load(acc, 16); a41 = Load(acc, 17); a42 = Load(acc, 18); a43 = Load(acc, 19);
            a50 = Load(acc, 20); a51 = Load(acc, 21); a52 = Load(acc, 22); a53 = Load(acc, 23);
        }
        double* x0 = (double*)x, x1 = (double*)(x + ldx), x2 = (double*)(x + 2 * ldx),
                x3 = (double*)(x + 3 * ldx), x4 = (double*)(x + 4 * ldx), x5 = (double*)(x + 5 * ldx);
        for (int s = 0; s < steps; s++)
        {
            var w0 = Avx512F.LoadAlignedVector512(w); var w1 = Avx512F.LoadAlignedVector512(w + 16);
            var w2 = Avx512F.LoadAlignedVector512(w + 32); var w3 = Avx512F.LoadAlignedVector512(w + 48);
            int k = 4 * s; // in doubles: 8 floats per step
            // The token's 8 floats broadcast to both halves: one load-port µop, no shuffle.
            var u = Avx512F.BroadcastVector256ToVector512(x0 + k).AsSingle();
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a01 = Avx512F.FusedMultiplyAdd(u, w1, a01);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a03 = Avx512F.FusedMultiplyAdd(u, w3, a03);
            u = Avx512F.BroadcastVector256ToVector512(x1 + k).AsSingle();
            a10 = Avx512F.FusedMultiplyAdd(u, w0, a10); a11 = Avx512F.FusedMultiplyAdd(u, w1, a11);
            a12 = Avx512F.FusedMultiplyAdd(u, w2, a12); a13 = Avx512F.FusedMultiplyAdd(u, w3, a13);
            u = Avx512F.BroadcastVector256ToVector512(x2 + k).AsSingle();
            a20 = Avx512F.FusedMultiplyAdd(u, w0, a20); a21 = Avx512F.FusedMultiplyAdd(u, w1, a21);
            a22 = Avx512F.FusedMultiplyAdd(u, w2, a22); a23 = Avx512F.FusedMultiplyAdd(u, w3, a23);
            u = Avx512F.BroadcastVector256ToVector512(x3 + k).AsSingle();
            a30 = Avx512F.FusedMultiplyAdd(u, w0, a30); a31 = Avx512F.FusedMultiplyAdd(u, w1, a31);
            a32 = Avx512F.FusedMultiplyAdd(u, w2, a32); a33 = Avx512F.FusedMultiplyAdd(u, w3, a33);
            u = Avx512F.BroadcastVector256ToVector512(x4 + k).AsSingle();
            a40 = Avx512F.FusedMultiplyAdd(u, w0, a40); a41 = Avx512F.FusedMultiplyAdd(u, w1, a41);
            a42 = Avx512F.FusedMultiplyAdd(u, w2, a42); a43 = Avx512F.FusedMultiplyAdd(u, w3, a43);
            u = Avx512F.BroadcastVector256ToVector512(x5 + k).AsSingle();
            a50 = Avx512F.FusedMultiplyAdd(u, w0, a50); a51 = Avx512F.FusedMultiplyAdd(u, w1, a51);
            a52 = Avx512F.FusedMultiplyAdd(u, w2, a52); a53 = Avx512F.FusedMultiplyAdd(u, w3, a53);
            w += StepFloats;
        }
        Store(acc, 0, a00); Store(acc, 1, a01); Store(acc, 2, a02); Store(acc, 3, a03);
        Store(acc, 4, a10); Store(acc, 5, a11); Store(acc, 6, a12); Store(acc, 7, a13);
        Store(acc, 8, a20); Store(acc, 9, a21); Store(acc, 10, a22); Store(acc, 11, a23);
        Store(acc, 12, a30); Store(acc, 13, a31); Store(acc, 14, a32); Store(acc, 15, a33);
        Store(acc, 16, a40); Store(acc, 17, a41); Store(acc, 18, a42); Store(acc, 19, a43);
        Store(acc, 20, a50); Store(acc, 21, a51); Store(acc, 22, a52); Store(acc, 23, a53);
    }

    /// <summary>The last 4 tokens of a call (n is cut into panels of 6 and 4): 16 zmm accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Panel4(float* x, int ldx, float* w, int steps, float* acc, bool first)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default,
                         a10 = default, a11 = default, a12 = default, a13 = default,
                         a20 = default, a21 = default, a22 = default, a23 = default,
                         a30 = default, a31 = default, a32 = default, a33 = default;
        if (!first)
        {
            a00 = Load(acc, 0); a01 = Load(acc, 1); a02 = Load(acc, 2); a03 = Load(acc, 3);
            a10 = Load(acc, 4); a11 = Load(acc, 5); a12 = Load(acc, 6); a13 = Load(acc, 7);
            a20 = Load(acc, 8); a21 = Load(acc, 9); a22 = Load(acc, 10); a23 = Load(acc, 11);
            a30 = Load(acc, 12); a31 = Load(acc, 13); a32 = Load(acc, 14); a33 = Load(acc, 15);
        }
        double* x0 = (double*)x, x1 = (double*)(x + ldx), x2 = (double*)(x + 2 * ldx), x3 = (double*)(x + 3 * ldx);
        for (int s = 0; s < steps; s++)
        {
            var w0 = Avx512F.LoadAlignedVector512(w); var w1 = Avx512F.LoadAlignedVector512(w + 16);
            var w2 = Avx512F.LoadAlignedVector512(w + 32); var w3 = Avx512F.LoadAlignedVector512(w + 48);
            int k = 4 * s;
            var u = Avx512F.BroadcastVector256ToVector512(x0 + k).AsSingle();
            a00 = Avx512F.FusedMultiplyAdd(u, w0, a00); a01 = Avx512F.FusedMultiplyAdd(u, w1, a01);
            a02 = Avx512F.FusedMultiplyAdd(u, w2, a02); a03 = Avx512F.FusedMultiplyAdd(u, w3, a03);
            u = Avx512F.BroadcastVector256ToVector512(x1 + k).AsSingle();
            a10 = Avx512F.FusedMultiplyAdd(u, w0, a10); a11 = Avx512F.FusedMultiplyAdd(u, w1, a11);
            a12 = Avx512F.FusedMultiplyAdd(u, w2, a12); a13 = Avx512F.FusedMultiplyAdd(u, w3, a13);
            u = Avx512F.BroadcastVector256ToVector512(x2 + k).AsSingle();
            a20 = Avx512F.FusedMultiplyAdd(u, w0, a20); a21 = Avx512F.FusedMultiplyAdd(u, w1, a21);
            a22 = Avx512F.FusedMultiplyAdd(u, w2, a22); a23 = Avx512F.FusedMultiplyAdd(u, w3, a23);
            u = Avx512F.BroadcastVector256ToVector512(x3 + k).AsSingle();
            a30 = Avx512F.FusedMultiplyAdd(u, w0, a30); a31 = Avx512F.FusedMultiplyAdd(u, w1, a31);
            a32 = Avx512F.FusedMultiplyAdd(u, w2, a32); a33 = Avx512F.FusedMultiplyAdd(u, w3, a33);
            w += StepFloats;
        }
        Store(acc, 0, a00); Store(acc, 1, a01); Store(acc, 2, a02); Store(acc, 3, a03);
        Store(acc, 4, a10); Store(acc, 5, a11); Store(acc, 6, a12); Store(acc, 7, a13);
        Store(acc, 8, a20); Store(acc, 9, a21); Store(acc, 10, a22); Store(acc, 11, a23);
        Store(acc, 12, a30); Store(acc, 13, a31); Store(acc, 14, a32); Store(acc, 15, a33);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx512Token(float* x, float* w, int steps, float* acc, bool first)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        if (!first) { a0 = Load(acc, 0); a1 = Load(acc, 1); a2 = Load(acc, 2); a3 = Load(acc, 3); }
        for (int s = 0; s < steps; s++)
        {
            var u = Avx512F.BroadcastVector256ToVector512((double*)(x + 8 * s)).AsSingle();
            a0 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadAlignedVector512(w), a0);
            a1 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadAlignedVector512(w + 16), a1);
            a2 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadAlignedVector512(w + 32), a2);
            a3 = Avx512F.FusedMultiplyAdd(u, Avx512F.LoadAlignedVector512(w + 48), a3);
            w += StepFloats;
        }
        Store(acc, 0, a0); Store(acc, 1, a1); Store(acc, 2, a2); Store(acc, 3, a3);
    }

    /// <summary>AVX2: the same work and layout as <see cref="Avx512"/>, one row pair (12 ymm accumulators) at a time.</summary>
    public static void Avx2(float* x, int ldx, float* w, int steps, float* acc, bool first, int tm)
    {
        if (tm == PanelTokens)
        {
            for (int q = 0; q < 4; q++) Avx2Panel6Pair(x, ldx, w + 16 * q, steps, acc + 16 * q, first);
            return;
        }
        if (tm == 4)
        {
            for (int q = 0; q < 4; q++) Avx2Panel4Pair(x, ldx, w + 16 * q, steps, acc + 16 * q, first);
            return;
        }
        for (int t = 0; t < tm; t++)
            for (int q = 0; q < 4; q++) Avx2TokenPair(x + t * ldx, w + 16 * q, steps, acc + t * 64 + 16 * q, first);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Panel6Pair(float* x, int ldx, float* w, int steps, float* acc, bool first)
    {
        // acc + t·64 + h·8: token t, row h of the pair.
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default,
                         a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        if (!first)
        {
            a00 = Avx.LoadVector256(acc); a01 = Avx.LoadVector256(acc + 8);
            a10 = Avx.LoadVector256(acc + 64); a11 = Avx.LoadVector256(acc + 72);
            a20 = Avx.LoadVector256(acc + 128); a21 = Avx.LoadVector256(acc + 136);
            a30 = Avx.LoadVector256(acc + 192); a31 = Avx.LoadVector256(acc + 200);
            a40 = Avx.LoadVector256(acc + 256); a41 = Avx.LoadVector256(acc + 264);
            a50 = Avx.LoadVector256(acc + 320); a51 = Avx.LoadVector256(acc + 328);
        }
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx, x4 = x + 4 * ldx, x5 = x + 5 * ldx;
        for (int s = 0; s < steps; s++)
        {
            var v0 = Avx.LoadVector256(w); var v1 = Avx.LoadVector256(w + 8);
            int k = 8 * s;
            var u = Avx.LoadVector256(x0 + k); a00 = Fma.MultiplyAdd(u, v0, a00); a01 = Fma.MultiplyAdd(u, v1, a01);
            u = Avx.LoadVector256(x1 + k); a10 = Fma.MultiplyAdd(u, v0, a10); a11 = Fma.MultiplyAdd(u, v1, a11);
            u = Avx.LoadVector256(x2 + k); a20 = Fma.MultiplyAdd(u, v0, a20); a21 = Fma.MultiplyAdd(u, v1, a21);
            u = Avx.LoadVector256(x3 + k); a30 = Fma.MultiplyAdd(u, v0, a30); a31 = Fma.MultiplyAdd(u, v1, a31);
            u = Avx.LoadVector256(x4 + k); a40 = Fma.MultiplyAdd(u, v0, a40); a41 = Fma.MultiplyAdd(u, v1, a41);
            u = Avx.LoadVector256(x5 + k); a50 = Fma.MultiplyAdd(u, v0, a50); a51 = Fma.MultiplyAdd(u, v1, a51);
            w += StepFloats;
        }
        Avx.Store(acc, a00); Avx.Store(acc + 8, a01);
        Avx.Store(acc + 64, a10); Avx.Store(acc + 72, a11);
        Avx.Store(acc + 128, a20); Avx.Store(acc + 136, a21);
        Avx.Store(acc + 192, a30); Avx.Store(acc + 200, a31);
        Avx.Store(acc + 256, a40); Avx.Store(acc + 264, a41);
        Avx.Store(acc + 320, a50); Avx.Store(acc + 328, a51);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2Panel4Pair(float* x, int ldx, float* w, int steps, float* acc, bool first)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default,
                         a20 = default, a21 = default, a30 = default, a31 = default;
        if (!first)
        {
            a00 = Avx.LoadVector256(acc); a01 = Avx.LoadVector256(acc + 8);
            a10 = Avx.LoadVector256(acc + 64); a11 = Avx.LoadVector256(acc + 72);
            a20 = Avx.LoadVector256(acc + 128); a21 = Avx.LoadVector256(acc + 136);
            a30 = Avx.LoadVector256(acc + 192); a31 = Avx.LoadVector256(acc + 200);
        }
        float* x0 = x, x1 = x + ldx, x2 = x + 2 * ldx, x3 = x + 3 * ldx;
        for (int s = 0; s < steps; s++)
        {
            var v0 = Avx.LoadVector256(w); var v1 = Avx.LoadVector256(w + 8);
            int k = 8 * s;
            var u = Avx.LoadVector256(x0 + k); a00 = Fma.MultiplyAdd(u, v0, a00); a01 = Fma.MultiplyAdd(u, v1, a01);
            u = Avx.LoadVector256(x1 + k); a10 = Fma.MultiplyAdd(u, v0, a10); a11 = Fma.MultiplyAdd(u, v1, a11);
            u = Avx.LoadVector256(x2 + k); a20 = Fma.MultiplyAdd(u, v0, a20); a21 = Fma.MultiplyAdd(u, v1, a21);
            u = Avx.LoadVector256(x3 + k); a30 = Fma.MultiplyAdd(u, v0, a30); a31 = Fma.MultiplyAdd(u, v1, a31);
            w += StepFloats;
        }
        Avx.Store(acc, a00); Avx.Store(acc + 8, a01);
        Avx.Store(acc + 64, a10); Avx.Store(acc + 72, a11);
        Avx.Store(acc + 128, a20); Avx.Store(acc + 136, a21);
        Avx.Store(acc + 192, a30); Avx.Store(acc + 200, a31);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Avx2TokenPair(float* x, float* w, int steps, float* acc, bool first)
    {
        Vector256<float> a0 = default, a1 = default;
        if (!first) { a0 = Avx.LoadVector256(acc); a1 = Avx.LoadVector256(acc + 8); }
        for (int s = 0; s < steps; s++)
        {
            var u = Avx.LoadVector256(x + 8 * s);
            a0 = Fma.MultiplyAdd(u, Avx.LoadVector256(w), a0);
            a1 = Fma.MultiplyAdd(u, Avx.LoadVector256(w + 8), a1);
            w += StepFloats;
        }
        Avx.Store(acc, a0); Avx.Store(acc + 8, a1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load(float* acc, int i) => Avx512F.LoadAlignedVector512(acc + 16 * i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* acc, int i, Vector512<float> v) => Avx512F.StoreAligned(acc + 16 * i, v);
}
