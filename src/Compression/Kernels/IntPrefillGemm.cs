// IntPrefillGemm: q4_0 and q8_0 prefill Y = X·Wᵀ as integer dot products against Q8 activations (AVX-VNNI, AVX2 or scalar: the same bits).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;

namespace Compression.Kernels;

/// <summary>
/// The prefill of q4_0 and q8_0 as llama.cpp computes it: every token is quantized to Q8 blocks of 32 (<see cref="ActivationQ8"/>'s
/// codes and fp16-rounded scales, as the decode GEMVs do), and every output is, block by block in order,
/// <c>acc = fma((float)S, d_w·d_x, acc)</c> from 0, where <c>S = Σ w·q</c> is the block's exact integer dot product
/// (w = nibble − 8 for q4_0, the signed byte for q8_0).
/// <see cref="Reference"/> is that definition; the AVX-VNNI and AVX2 kernels compute the same integers (exactly) and
/// take the same two float steps, so every level gives its bits.
/// <para>
/// Layout: each thread repacks a tile of weight rows, eight rows per 256-bit lane group — per block, eight steps of
/// 32 bytes (step j holds codes 4j..4j+3 of each of the eight rows, one row per dword lane) and the eight rows' scales —
/// so one <c>vpdpbusd</c> of those 32 unsigned codes (w + 8, or w + 128 by flipping the sign bit) against a broadcast of
/// four of a token's signed codes adds four
/// products to each row's lane, and the block's 32 products end up summed in one lane per row and token: the float
/// work is three operations per block per eight outputs, not per 32 products. A panel of four tokens shares every
/// weight load. The offset (8 or 128) enters as the accumulator's start value, −offset·Σq per token and block.
/// </para>
/// Activations with a non-finite value go to <see cref="TiledGemm"/> (whose fp32 arithmetic keeps ±Inf apart from NaN).
/// </summary>
public static unsafe class IntPrefillGemm
{
    /// <summary>Weight rows per lane group.</summary>
    public const int GroupRows = 8;
    /// <summary>Tokens per micro-kernel panel.</summary>
    public const int Panel = 4;
    private const int Block = 32;
    /// <summary>Bytes of one (lane group, block) unit of a repacked tile: 256 bytes of codes, then 8 float scales.</summary>
    private const int UnitBytes = 256 + 32;

    private struct Ctx
    {
        public byte* W;
        public long RowBytes;
        public int Rows, Cols, N, Padded, TileRows;
        public IsaLevel Level;
        public bool Vnni;
        public bool Nibbles;  // q4_0 (fp16 d, 16 bytes of nibbles); else q8_0 (fp16 d, 32 signed bytes)
        public int BlockBytes, Offset;
        public float* X, Y;
        public sbyte* Q;   // Padded × cols codes
        public float* D;   // Padded × cols/32 scales
        public int* NegS;  // Padded × cols/32: −offset·Σq
        public int NonFinite;
    }

    /// <summary>Weight rows per tile: the repacked tile (9/8 byte per weight) within half a MiB, 8 to 64 rows.</summary>
    public static int TileRowsFor(int cols) => Math.Clamp((1 << 19) / (Math.Max(cols, 1) + cols / 8) / 8 * 8, 8, 64);

    /// <summary>The prefill of a format that has this kernel (<see cref="TensorFormat.GemmQuantizesActivations"/>): here under
    /// <see cref="PrefillActivations.Mode.Q8"/>, else the fp32 tiles.</summary>
    public static void Prefill(TensorFormat format, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        if (PrefillActivations.Current == PrefillActivations.Mode.Q8) Run(format, packed, rows, cols, x, n, y);
        else TiledGemm.Run(format, packed, rows, cols, x, n, y);
    }

    public static void Run(TensorFormat format, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y)
    {
        if (format.Name is not ("q4_0" or "q8_0")) throw new ArgumentException($"{format.Name}: no integer prefill (q4_0 and q8_0 have one)");
        bool nibbles = format.Name == "q4_0";
        long rb = format.RowBytes(cols);
        GemvDriver.Check(format.Name, packed, rows, cols, rb, x, n, y);
        if (n == 0 || rows == 0) return;
        var level = KernelIsa.Current;
        if (level != IsaLevel.Scalar && !(Avx2.IsSupported && Fma.IsSupported)) level = IsaLevel.Scalar;
        int nb = cols / Block;
        int padded = (n + Panel - 1) / Panel * Panel;
        long qBytes = (long)padded * cols, dBytes = 4L * padded * nb;
        byte* mem = (byte*)NativeMemory.AlignedAlloc((nuint)(qBytes + 2 * dBytes + 64), 64);
        try
        {
            fixed (byte* pw = packed)
            fixed (float* px = x)
            fixed (float* py = y)
            {
                var ctx = new Ctx
                {
                    W = pw, RowBytes = rb, Rows = rows, Cols = cols, N = n, Padded = padded, TileRows = TileRowsFor(cols),
                    Level = level, Vnni = KernelIsa.Vnni, X = px, Y = py,
                    Nibbles = nibbles, BlockBytes = nibbles ? 18 : 34, Offset = nibbles ? 8 : 128,
                    Q = (sbyte*)mem, D = (float*)(mem + qBytes), NegS = (int*)(mem + qBytes + dBytes),
                };
                // Padding tokens: zero codes, scales and offsets, so their outputs are zero (and never stored).
                new Span<byte>(mem + (long)n * cols, (int)((padded - n) * (long)cols)).Clear();
                new Span<float>(ctx.D + (long)n * nb, (padded - n) * nb).Clear();
                new Span<int>(ctx.NegS + (long)n * nb, (padded - n) * nb).Clear();
                RowParallel.For(n, 1, 8, &QuantizeTokens, (nint)(&ctx));
                if (Volatile.Read(ref ctx.NonFinite) != 0)
                {
                    TiledGemm.Run(format, packed, rows, cols, x, n, y);
                    return;
                }
                int tiles = (rows + ctx.TileRows - 1) / ctx.TileRows;
                if (level == IsaLevel.Scalar) RowParallel.For(tiles, 1, 2, &ReferenceTiles, (nint)(&ctx));
                else RowParallel.For(tiles, 1, 2, &RunTiles, (nint)(&ctx));
            }
        }
        finally { NativeMemory.AlignedFree(mem); }
    }

    /// <summary>Tokens [t0, t1) to Q8 codes, scales and offsets; flags a non-finite activation.</summary>
    private static void QuantizeTokens(nint p, int t0, int t1)
    {
        var c = (Ctx*)p;
        int cols = c->Cols, nb = cols / Block;
        bool simd = c->Level != IsaLevel.Scalar;
        for (int t = t0; t < t1; t++)
        {
            float* xt = c->X + (long)t * cols;
            if (!AllFinite(xt, cols, simd)) { Interlocked.Exchange(ref c->NonFinite, 1); return; }
            for (int b = 0; b < nb; b++)
            {
                sbyte* q = c->Q + (long)t * cols + b * Block;
                float d;
                if (simd) ActivationQ8.QuantizeBlockAvx2(xt + b * Block, q, out d, out _);
                else ActivationQ8.QuantizeBlockScalar(xt + b * Block, q, out d, out _);
                int sum = 0;
                for (int i = 0; i < Block; i++) sum += q[i];
                c->D[(long)t * nb + b] = d;
                c->NegS[(long)t * nb + b] = -c->Offset * sum;
            }
        }
    }

    private static bool AllFinite(float* x, int count, bool simd)
    {
        int i = 0;
        if (simd)
        {
            var exp = Vector256.Create(0x7f800000);
            var bad = Vector256<int>.Zero;
            for (; i + 8 <= count; i += 8)
                bad |= Vector256.Equals(Vector256.Load((int*)(x + i)) & exp, exp);
            if (bad != Vector256<int>.Zero) return false;
        }
        for (; i < count; i++)
            if (!float.IsFinite(x[i])) return false;
        return true;
    }

    /// <summary>The definition of the bits, one output at a time (the scalar level; tiles of rows in parallel).</summary>
    private static void ReferenceTiles(nint p, int firstTile, int endTile)
    {
        var c = (Ctx*)p;
        int rows = c->Rows, cols = c->Cols, nb = cols / Block;
        for (int r = firstTile * c->TileRows; r < Math.Min(rows, endTile * c->TileRows); r++)
        {
            byte* w = c->W + r * c->RowBytes;
            for (int t = 0; t < c->N; t++)
                c->Y[(long)t * rows + r] = Reference(w, c->Nibbles, c->Q + (long)t * cols, c->D + (long)t * nb, nb);
        }
    }

    /// <summary>One output: Σ over blocks, in order, of fma((float)S, d_w·d_x, acc) with S the exact integer dot product.</summary>
    internal static float Reference(byte* w, bool nibbles, sbyte* q, float* d, int nb)
    {
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = w + b * (nibbles ? 18 : 34);
            float dw = (float)*(Half*)blk;
            int s = 0;
            if (nibbles)
                for (int j = 0; j < 16; j++)
                {
                    s += ((blk[2 + j] & 0x0f) - 8) * q[b * Block + j];
                    s += ((blk[2 + j] >> 4) - 8) * q[b * Block + j + 16];
                }
            else
                for (int j = 0; j < Block; j++) s += (sbyte)blk[2 + j] * q[b * Block + j];
            acc = MathF.FusedMultiplyAdd(s, dw * d[b], acc);
        }
        return acc;
    }

    private static void RunTiles(nint p, int firstTile, int endTile)
    {
        var c = (Ctx*)p;
        int rows = c->Rows, cols = c->Cols, nb = cols / Block, tileRows = c->TileRows;
        byte* tile = Scratch.Get(1, (nuint)((long)(tileRows / GroupRows) * nb * UnitBytes));
        for (int t = firstTile; t < endTile; t++)
        {
            int r0 = t * tileRows;
            int tr = Math.Min(tileRows, rows - r0);
            int groups = (tr + GroupRows - 1) / GroupRows;
            for (int g = 0; g < groups; g++)
                Repack(c, r0 + g * GroupRows, Math.Min(GroupRows, rows - r0 - g * GroupRows), nb, tile + (long)g * nb * UnitBytes);
            for (int t0 = 0; t0 < c->Padded; t0 += Panel)
            {
                sbyte* q = c->Q + (long)t0 * cols;
                float* d = c->D + (long)t0 * nb;
                int* negS = c->NegS + (long)t0 * nb;
                float* y = c->Y + (long)t0 * rows;
                int g = 0;
                if (c->Vnni)
                    for (; g + 1 < groups; g += 2)
                    {
                        int row = r0 + g * GroupRows;
                        byte* units = tile + (long)g * nb * UnitBytes;
                        TwoGroupsVnni(units, units + (long)nb * UnitBytes, nb, q, cols, d, negS, y + row, rows, Math.Min(Panel, c->N - t0), Math.Min(GroupRows, rows - row - GroupRows));
                    }
                for (; g < groups; g++)
                {
                    int row = r0 + g * GroupRows;
                    byte* units = tile + (long)g * nb * UnitBytes;
                    int tokens = Math.Min(Panel, c->N - t0), count = Math.Min(GroupRows, rows - row);
                    if (c->Vnni) OneGroup<VnniDot>(units, nb, q, cols, d, negS, y + row, rows, tokens, count);
                    else if (c->Nibbles) OneGroup<Avx2Dot>(units, nb, q, cols, d, negS, y + row, rows, tokens, count);
                    else OneGroup<Avx2SignedDot>(units, nb, q, cols, d, negS, y + row, rows, tokens, count);
                }
            }
        }
    }

    /// <summary>Rows [row, row + count) (count ≤ 8; missing rows are zero codes and scales) into (block, step, row) units of
    /// unsigned codes: q4_0's nibbles as they are (w + 8), q8_0's bytes with the sign bit flipped (w + 128).</summary>
    private static void Repack(Ctx* c, int row, int count, int nb, byte* dst)
    {
        for (int b = 0; b < nb; b++)
        {
            byte* unit = dst + (long)b * UnitBytes;
            float* scales = (float*)(unit + 256);
            // Row r's 32 unsigned codes as eight dwords (step j = codes 4j..4j+3), its scale into the unit; zero past count.
            Vector256<float> Row(int r)
            {
                scales[r] = 0;
                if (r >= count) return default;
                byte* blk = c->W + (row + r) * c->RowBytes + (long)b * c->BlockBytes;
                scales[r] = (float)*(Half*)blk;
                return (c->Nibbles ? IntDot.Nibbles32(blk + 2) : Avx.LoadVector256(blk + 2) ^ Vector256.Create((byte)0x80)).AsSingle();
            }
            var v0 = Row(0); var v1 = Row(1); var v2 = Row(2); var v3 = Row(3);
            var v4 = Row(4); var v5 = Row(5); var v6 = Row(6); var v7 = Row(7);
            // 8×8 transpose of dwords: step j of row r (codes 4j..4j+3) to dword r of step j.
            var t0 = Avx.UnpackLow(v0, v1); var t1 = Avx.UnpackHigh(v0, v1);
            var t2 = Avx.UnpackLow(v2, v3); var t3 = Avx.UnpackHigh(v2, v3);
            var t4 = Avx.UnpackLow(v4, v5); var t5 = Avx.UnpackHigh(v4, v5);
            var t6 = Avx.UnpackLow(v6, v7); var t7 = Avx.UnpackHigh(v6, v7);
            var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
            var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
            var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
            var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
            float* o = (float*)unit;
            Avx.Store(o + 0, Avx.Permute2x128(s0, s4, 0x20));
            Avx.Store(o + 8, Avx.Permute2x128(s1, s5, 0x20));
            Avx.Store(o + 16, Avx.Permute2x128(s2, s6, 0x20));
            Avx.Store(o + 24, Avx.Permute2x128(s3, s7, 0x20));
            Avx.Store(o + 32, Avx.Permute2x128(s0, s4, 0x31));
            Avx.Store(o + 40, Avx.Permute2x128(s1, s5, 0x31));
            Avx.Store(o + 48, Avx.Permute2x128(s2, s6, 0x31));
            Avx.Store(o + 56, Avx.Permute2x128(s3, s7, 0x31));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<sbyte> Codes4(sbyte* q) => Vector256.Create(*(int*)q).AsSByte();

    /// <summary>How a one-group panel adds four codes of four tokens to eight rows' lanes: its start value and step.</summary>
    private interface IDot
    {
        /// <summary>The accumulator at the start of a block, from −offset·Σq.</summary>
        static abstract Vector256<int> Start(int negS);
        /// <summary>acc + Σ over four products per lane: the tile's unsigned codes <paramref name="w"/> against four of a token's codes.</summary>
        static abstract Vector256<int> Step(Vector256<int> acc, Vector256<byte> w, sbyte* q);
    }

    /// <summary>AVX-VNNI's vpdpbusd.</summary>
    private readonly struct VnniDot : IDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Start(int negS) => Vector256.Create(negS);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Step(Vector256<int> acc, Vector256<byte> w, sbyte* q) => AvxVnni.MultiplyWideningAndAdd(acc, w, Codes4(q));
    }

    /// <summary>AVX2's multiply-add pairs on q4_0's codes (w + 8 ≤ 15: maddubs cannot saturate, 15·127·2 &lt; 2¹⁵).</summary>
    private readonly struct Avx2Dot : IDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Start(int negS) => Vector256.Create(negS);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Step(Vector256<int> acc, Vector256<byte> w, sbyte* q) => Avx2.Add(acc, IntDot.MulSumU8I8(w, Codes4(q)));
    }

    /// <summary>
    /// q8_0 on AVX2 without VNNI: maddubs of w + 128 (up to 255) against q would saturate its int16 pairs, so the codes go
    /// back to signed (flip the sign bit) and |w| meets q with w's sign (pairs ≤ 2·128·127 &lt; 2¹⁵); the accumulator starts
    /// at 0 instead of −128·Σq. The same integers, so the same bits.
    /// </summary>
    private readonly struct Avx2SignedDot : IDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Start(int negS) => Vector256<int>.Zero;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Step(Vector256<int> acc, Vector256<byte> w, sbyte* q)
        {
            var sw = (w ^ Vector256.Create((byte)0x80)).AsSByte();
            return Avx2.Add(acc, Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(sw), Avx2.Sign(Codes4(q), sw)), Vector256.Create((short)1)));
        }
    }

    /// <summary>Eight rows × four tokens over every block (the AVX2 levels, and with VNNI the last lane group of a tile
    /// when their count is odd); stores the first <paramref name="tokens"/> tokens' first <paramref name="count"/> rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneGroup<TDot>(byte* units, int nb, sbyte* q, int cols, float* d, int* negS, float* y, int rows, int tokens, int count)
        where TDot : struct, IDot
    {
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        sbyte* q0 = q, q1 = q + cols, q2 = q + 2 * cols, q3 = q + 3 * cols;
        float* d0 = d, d1 = d + nb, d2 = d + 2 * nb, d3 = d + 3 * nb;
        int* s0 = negS, s1 = negS + nb, s2 = negS + 2 * nb, s3 = negS + 3 * nb;
        byte* u = units;
        for (int b = 0; b < nb; b++, u += UnitBytes, q0 += Block, q1 += Block, q2 += Block, q3 += Block)
        {
            var a0 = TDot.Start(s0[b]); var a1 = TDot.Start(s1[b]);
            var a2 = TDot.Start(s2[b]); var a3 = TDot.Start(s3[b]);
            for (int j = 0; j < 8; j++)
            {
                var w = Avx.LoadAlignedVector256(u + 32 * j);
                a0 = TDot.Step(a0, w, q0 + 4 * j); a1 = TDot.Step(a1, w, q1 + 4 * j);
                a2 = TDot.Step(a2, w, q2 + 4 * j); a3 = TDot.Step(a3, w, q3 + 4 * j);
            }
            var dw = Avx.LoadAlignedVector256((float*)(u + 256));
            f0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0), Avx.Multiply(dw, Vector256.Create(d0[b])), f0);
            f1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1), Avx.Multiply(dw, Vector256.Create(d1[b])), f1);
            f2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a2), Avx.Multiply(dw, Vector256.Create(d2[b])), f2);
            f3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a3), Avx.Multiply(dw, Vector256.Create(d3[b])), f3);
        }
        Store(y, rows, tokens, count, f0, f1, f2, f3);
    }

    /// <summary>Two lane groups (sixteen rows) × four tokens with AVX-VNNI: each broadcast of four codes feeds two vpdpbusd, and
    /// the 16 accumulators use the upper half of AVX-512's 32 vector registers where the JIT has them (EVEX-encoded vpdpbusd).
    /// 1.2× the one-group panel on one core here (two chains per accumulator, or three groups: no gain).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoGroupsVnni(byte* unitsA, byte* unitsB, int nb, sbyte* q, int cols, float* d, int* negS, float* y, int rows, int tokens, int countB)
    {
        Vector256<float> f0 = default, f1 = default, f2 = default, f3 = default;
        Vector256<float> g0 = default, g1 = default, g2 = default, g3 = default;
        sbyte* q0 = q, q1 = q + cols, q2 = q + 2 * cols, q3 = q + 3 * cols;
        float* d0 = d, d1 = d + nb, d2 = d + 2 * nb, d3 = d + 3 * nb;
        int* s0 = negS, s1 = negS + nb, s2 = negS + 2 * nb, s3 = negS + 3 * nb;
        byte* u = unitsA;
        byte* v = unitsB;
        for (int b = 0; b < nb; b++, u += UnitBytes, v += UnitBytes, q0 += Block, q1 += Block, q2 += Block, q3 += Block)
        {
            var a0 = Vector256.Create(s0[b]); var a1 = Vector256.Create(s1[b]);
            var a2 = Vector256.Create(s2[b]); var a3 = Vector256.Create(s3[b]);
            var c0 = a0; var c1 = a1; var c2 = a2; var c3 = a3;
            for (int j = 0; j < 8; j++)
            {
                var w = Avx.LoadAlignedVector256(u + 32 * j);
                var z = Avx.LoadAlignedVector256(v + 32 * j);
                var x = Codes4(q0 + 4 * j);
                a0 = AvxVnni.MultiplyWideningAndAdd(a0, w, x); c0 = AvxVnni.MultiplyWideningAndAdd(c0, z, x);
                x = Codes4(q1 + 4 * j);
                a1 = AvxVnni.MultiplyWideningAndAdd(a1, w, x); c1 = AvxVnni.MultiplyWideningAndAdd(c1, z, x);
                x = Codes4(q2 + 4 * j);
                a2 = AvxVnni.MultiplyWideningAndAdd(a2, w, x); c2 = AvxVnni.MultiplyWideningAndAdd(c2, z, x);
                x = Codes4(q3 + 4 * j);
                a3 = AvxVnni.MultiplyWideningAndAdd(a3, w, x); c3 = AvxVnni.MultiplyWideningAndAdd(c3, z, x);
            }
            var dw = Avx.LoadAlignedVector256((float*)(u + 256));
            var dz = Avx.LoadAlignedVector256((float*)(v + 256));
            var e = Vector256.Create(d0[b]);
            f0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a0), Avx.Multiply(dw, e), f0);
            g0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(c0), Avx.Multiply(dz, e), g0);
            e = Vector256.Create(d1[b]);
            f1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a1), Avx.Multiply(dw, e), f1);
            g1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(c1), Avx.Multiply(dz, e), g1);
            e = Vector256.Create(d2[b]);
            f2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a2), Avx.Multiply(dw, e), f2);
            g2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(c2), Avx.Multiply(dz, e), g2);
            e = Vector256.Create(d3[b]);
            f3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(a3), Avx.Multiply(dw, e), f3);
            g3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(c3), Avx.Multiply(dz, e), g3);
        }
        Store(y, rows, tokens, GroupRows, f0, f1, f2, f3);
        Store(y + GroupRows, rows, tokens, countB, g0, g1, g2, g3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int rows, int tokens, int count, Vector256<float> f0, Vector256<float> f1, Vector256<float> f2, Vector256<float> f3)
    {
        if (count == GroupRows)
        {
            Avx.Store(y, f0);
            if (tokens > 1) Avx.Store(y + rows, f1);
            if (tokens > 2) Avx.Store(y + 2L * rows, f2);
            if (tokens > 3) Avx.Store(y + 3L * rows, f3);
            return;
        }
        for (int t = 0; t < tokens; t++)
        {
            var f = t switch { 0 => f0, 1 => f1, 2 => f2, _ => f3 };
            for (int i = 0; i < count; i++) y[(long)t * rows + i] = f.GetElement(i);
        }
    }
}
