// Q4_0VnniGemm: a sketch, not wired into the model — q4_0 prefill as integer dot products (AVX-VNNI) with Q8 activations, bit for bit the decode GEMV.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// Y = X·Wᵀ for q4_0 W, where every output equals what <see cref="Q4_0Kernels"/>' AVX2/AVX-512 GEMV gives for that
/// token (so prefill and decode would agree bit for bit — but prefill would no longer give today's fp32 bits,
/// which is why this is not wired in). Each token is quantized once (<see cref="ActivationQ8"/>); each thread unpacks
/// a tile of weight rows to one code byte per weight; a 2-row × 2-token block then runs, per block of 32,
/// VPDPBUSD seeded with −8·Σ4 x̂ (the same int32 lanes as the GEMV's maddubs/madd minus that term; no
/// saturation is possible: 15·127·4 ≪ 2³¹), int→float, the scale d_w·d_x, and an FMA into the even- or
/// odd-block accumulator — the GEMV's exact sequence. That sequence keeps 8 lanes per output per block, so the
/// float work (convert, scale, FMA: 3 ops per 32 products) outweighs the integer work (1 op): on 256-bit VNNI
/// this cannot beat a 512-bit fp32 FMA kernel at 16 products per op; its gain is skipping dequantization.
/// </summary>
public static unsafe class Q4_0VnniGemm
{
    public static bool IsSupported => AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported;

    private const int TileRows = 16;

    private struct Ctx
    {
        public byte* W;
        public int Rows, Cols, N;
        public sbyte* Q;    // n × cols codes
        public float* DL;   // n × cols/4: each block's d repeated 8 times
        public int* NegS;   // n × cols/4: −8·Σ4 codes, per lane
        public float* Y;
    }

    public static void Run(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        if (!IsSupported) throw new NotSupportedException("q4_0 VNNI GEMM: this CPU has no AVX-VNNI");
        var f = FormatRegistry.Get("q4_0");
        long rb = f.RowBytes(cols);
        GemvDriver.Check(f.Name, packed, rows, cols, rb, x, n, y);
        if (n == 0 || rows == 0) return;
        int lanes = cols / 4;
        byte* mem = (byte*)NativeMemory.AlignedAlloc((nuint)((long)n * (cols + 8L * lanes)), 64);
        try
        {
            var ctx = new Ctx { Rows = rows, Cols = cols, N = n, Q = (sbyte*)mem, DL = (float*)(mem + (long)n * cols) };
            ctx.NegS = (int*)(ctx.DL + (long)n * lanes);
            for (int t = 0; t < n; t++)
            {
                var a = ActivationQ8.Quantize(x.Slice(t * cols, cols));
                Buffer.MemoryCopy(a.Q, ctx.Q + (long)t * cols, cols, cols);
                Buffer.MemoryCopy(a.DLanes, ctx.DL + (long)t * lanes, 4L * lanes, 4L * lanes);
                for (int i = 0; i < lanes; i++) ctx.NegS[(long)t * lanes + i] = -a.Sum4x8[i];
            }
            fixed (byte* pw = packed)
            fixed (float* py = y)
            {
                ctx.W = pw; ctx.Y = py;
                RowParallel.For((rows + TileRows - 1) / TileRows, 1, 2, &RunTiles, (nint)(&ctx));
            }
        }
        finally { NativeMemory.AlignedFree(mem); }
    }

    private static void RunTiles(nint p, int firstTile, int endTile)
    {
        var c = (Ctx*)p;
        int cols = c->Cols, nb = cols / 32, rows = c->Rows, n = c->N;
        // One code byte per weight (low nibbles then high, as x̂ is ordered) and d per block, for TileRows rows.
        byte* codes = Scratch.Get(1, (nuint)(TileRows * (cols + 4 * nb)));
        float* dw = (float*)(codes + TileRows * cols);
        for (int tile = firstTile; tile < endTile; tile++)
        {
            int r0 = tile * TileRows, tr = Math.Min(TileRows, rows - r0);
            for (int i = 0; i < tr; i++)
            {
                byte* row = c->W + (long)(r0 + i) * nb * BlockQ4_0.Size;
                for (int b = 0; b < nb; b++)
                {
                    var blk = (BlockQ4_0*)(row + b * BlockQ4_0.Size);
                    IntDot.Nibbles32(blk->Qs).Store(codes + i * cols + b * 32);
                    dw[i * nb + b] = HalfConvert.ToFloat(*(ushort*)blk);
                }
            }
            int t = 0;
            for (; t + 2 <= n; t += 2)
            {
                int i = 0;
                for (; i + 2 <= tr; i += 2) Block2x2(c, codes + i * cols, dw + i * nb, r0 + i, t);
                for (; i < tr; i++) { One(c, codes + i * cols, dw + i * nb, r0 + i, t); One(c, codes + i * cols, dw + i * nb, r0 + i, t + 1); }
            }
            for (; t < n; t++)
                for (int i = 0; i < tr; i++) One(c, codes + i * cols, dw + i * nb, r0 + i, t);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Step(byte* codes, float dw, sbyte* q, float* dl, int* negS, Vector256<float> acc) =>
        Fma.MultiplyAdd(Vector256.Create(dw) * Avx.LoadVector256(dl),
            Avx.ConvertToVector256Single(AvxVnni.MultiplyWideningAndAdd(Avx.LoadVector256(negS), Avx.LoadVector256(codes), Avx.LoadVector256(q))), acc);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block2x2(Ctx* c, byte* codes, float* dw, int r, int t)
    {
        int cols = c->Cols, nb = cols / 32, lanes = cols / 4;
        byte* c0 = codes, c1 = codes + cols;
        float* d0 = dw, d1 = dw + nb;
        sbyte* q0 = c->Q + (long)t * cols, q1 = q0 + cols;
        float* l0 = c->DL + (long)t * lanes, l1 = l0 + lanes;
        int* s0 = c->NegS + (long)t * lanes, s1 = s0 + lanes;
        Vector256<float> e00 = default, o00 = default, e01 = default, o01 = default, e10 = default, o10 = default, e11 = default, o11 = default;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            int k = b * 32, j = b * 8;
            e00 = Step(c0 + k, d0[b], q0 + k, l0 + j, s0 + j, e00); e01 = Step(c0 + k, d0[b], q1 + k, l1 + j, s1 + j, e01);
            e10 = Step(c1 + k, d1[b], q0 + k, l0 + j, s0 + j, e10); e11 = Step(c1 + k, d1[b], q1 + k, l1 + j, s1 + j, e11);
            k += 32; j += 8;
            o00 = Step(c0 + k, d0[b + 1], q0 + k, l0 + j, s0 + j, o00); o01 = Step(c0 + k, d0[b + 1], q1 + k, l1 + j, s1 + j, o01);
            o10 = Step(c1 + k, d1[b + 1], q0 + k, l0 + j, s0 + j, o10); o11 = Step(c1 + k, d1[b + 1], q1 + k, l1 + j, s1 + j, o11);
        }
        if (b < nb)
        {
            int k = b * 32, j = b * 8;
            e00 = Step(c0 + k, d0[b], q0 + k, l0 + j, s0 + j, e00); e01 = Step(c0 + k, d0[b], q1 + k, l1 + j, s1 + j, e01);
            e10 = Step(c1 + k, d1[b], q0 + k, l0 + j, s0 + j, e10); e11 = Step(c1 + k, d1[b], q1 + k, l1 + j, s1 + j, e11);
        }
        int rows = c->Rows;
        float* y = c->Y + (long)t * rows + r;
        y[0] = IntDot.HSum(Avx.Add(e00, o00)); y[1] = IntDot.HSum(Avx.Add(e10, o10));
        y[rows] = IntDot.HSum(Avx.Add(e01, o01)); y[rows + 1] = IntDot.HSum(Avx.Add(e11, o11));
    }

    private static void One(Ctx* c, byte* codes, float* dw, int r, int t)
    {
        int cols = c->Cols, nb = cols / 32, lanes = cols / 4;
        sbyte* q = c->Q + (long)t * cols;
        float* l = c->DL + (long)t * lanes;
        int* s = c->NegS + (long)t * lanes;
        Vector256<float> e = default, o = default;
        int b = 0;
        for (; b + 1 < nb; b += 2)
        {
            e = Step(codes + b * 32, dw[b], q + b * 32, l + b * 8, s + b * 8, e);
            o = Step(codes + b * 32 + 32, dw[b + 1], q + b * 32 + 32, l + b * 8 + 8, s + b * 8 + 8, o);
        }
        if (b < nb) e = Step(codes + b * 32, dw[b], q + b * 32, l + b * 8, s + b * 8, e);
        c->Y[(long)t * c->Rows + r] = IntDot.HSum(Avx.Add(e, o));
    }
}
