// Q1_0Kernels: decode GEMV for q1_0 — exact integer sums per group of 32, by table lookups over sixteen rows at a time.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// y[r] = Σ_blocks d_w·Σ_{k&lt;4} d_x,k·S_k, where S_k = Σ ±q_x over the k-th 32 weights of a block (one Q1_0 block
/// spans four Q8 blocks), an exact integer (|S_k| ≤ 32·127). Every kernel computes the same S_k and then takes the same
/// float steps per block — inner = d_x,0·S_0, inner = fma(d_x,1, S_1, inner), … fma(d_x,3, S_3, inner),
/// acc = fma(d_w, inner, acc) from acc = 0 — so every level, and every row of a sixteen-row pass, gives the same bits.
/// </summary>
/// <remarks>
/// The sixteen-row kernels are lookup-table kernels in the manner of T-MAC (Wei et al., 2024): per group of four
/// columns a table holds Σ ±q for all 16 sign patterns, so four weights cost one byte shuffle instead of four
/// multiply-adds. A shuffle looks up 16 indices in one 16-entry table per 128-bit lane, so the indices in a lane must
/// all belong to the same four columns: the kernel transposes each block's sign bits across sixteen rows in registers
/// (the file's layout stays llama.cpp's). Entries lie in [−508, 508]; each is stored as T + 508 split into two 5-bit
/// parts, in two tables looked up separately, so a block's eight lookups per group add up in bytes (at most 8·31) and
/// become 16-bit sums once per block: S = 32·Σhigh + Σlow − 8·508, one multiply-add per half. (Low and high bytes,
/// as before, needed an unpack and a 16-bit add per lookup: 3 % slower on one core, both layouts, alternated in one process.)
/// </remarks>
public static unsafe class Q1_0Kernels
{
    /// <summary>Table bytes per 128 columns: four byte positions j × (low-nibble, high-nibble) × (low, high byte) × 64.</summary>
    internal const int TableBytesPerBlock = 1024;

    /// <summary>Added to every table entry (T ∈ [−508, 508]) so it is a 10-bit count, stored as two 5-bit parts: eight
    /// lookups' parts add up in bytes (≤ 8·31), and S = 32·Σhigh + Σlow − 8·508.</summary>
    internal const int EntryOffset = 508;

    /// <summary>y = W·x; the sixteen-row groups read from <paramref name="layout"/> (<see cref="WriteLayout"/> of
    /// <paramref name="packed"/>) when it is given, the same bits.</summary>
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, byte* layout, int rows, int cols, ReadOnlySpan<float> x, Span<float> y)
    {
        var level = KernelIsa.Current;
        // The sixteen-row kernel only pays for its tables when there are sixteen rows to share them.
        bool sixteen = rows >= 16 && level >= IsaLevel.Avx2;
        bool laid = sixteen && layout != null;
        var dot16 = laid ? PickLayout16(level) : sixteen ? Pick16(level, KernelIsa.Vbmi) : null;
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, 0, Pick(level), dot4: null,
            dot16, sixteen ? PickTables(level, KernelIsa.Vbmi) : null, laid ? layout : null);
    }

    /// <summary>The one-row kernel for <paramref name="level"/> (the rows a sixteen-row pass leaves over).</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) =>
        level >= IsaLevel.Avx2 ? &DotAvx2 : &DotScalar;

    /// <summary>The sixteen-row kernel: AVX-512 with VBMI (byte permutes for the transpose), else AVX2; none for scalar.</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> Pick16(IsaLevel level, bool vbmi) => level switch
    {
        IsaLevel.Avx512 when vbmi => &Dot16Avx512Vbmi,
        >= IsaLevel.Avx2 => &Dot16Avx2,
        _ => null,
    };

    /// <summary>The sixteen-row kernel over the decode layout: AVX-512 (BW; nothing left to permute), else AVX2.</summary>
    internal static delegate*<byte*, GemvContext*, float*, void> PickLayout16(IsaLevel level) =>
        level >= IsaLevel.Avx512 ? &Dot16LayoutAvx512 : &Dot16LayoutAvx2;

    /// <summary>The table builder that goes with <see cref="Pick16"/>'s kernel (both builders write the same bytes).</summary>
    internal static delegate*<GemvContext*, void> PickTables(IsaLevel level, bool vbmi) => level switch
    {
        IsaLevel.Avx512 when vbmi => &BuildTablesAvx512,
        >= IsaLevel.Avx2 => &BuildTablesAvx2,
        _ => null,
    };

    // ---------------------------------------------------------------- one row

    /// <summary>The definition: S_k bit by bit, then the float steps of the class summary.</summary>
    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        sbyte* q = c->Act.Q;
        float* d = c->Act.D;
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockQ1_0*)(row + b * BlockQ1_0.Size);
            float inner = 0;
            for (int k = 0; k < 4; k++)
            {
                int s = 0;
                sbyte* xq = q + b * 128 + k * 32;
                for (int j = 0; j < 32; j++)
                    s += ((blk->Qs[4 * k + j / 8] >> (j % 8)) & 1) != 0 ? xq[j] : -xq[j];
                inner = k == 0 ? d[4 * b] * s : MathF.FusedMultiplyAdd(d[4 * b + k], s, inner);
            }
            acc = MathF.FusedMultiplyAdd(HalfConvert.ToFloat(*(ushort*)blk), inner, acc);
        }
        return acc;
    }

    /// <summary>One row with AVX2: each group's ±q picked by its sign bits and summed to 8 lanes, the lanes of a
    /// block's four groups reduced to S_0..S_3 by horizontal adds, then the scalar float steps.</summary>
    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / 128;
        sbyte* q = c->Act.Q, nq = c->Act.NegQ;
        float* d = c->Act.D;
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + b * BlockQ1_0.Size;
            KernelPrefetch.Line(blk + c->Ahead);
            var s0 = SignedSum32(blk + 2, q + b * 128, nq + b * 128);
            var s1 = SignedSum32(blk + 6, q + b * 128 + 32, nq + b * 128 + 32);
            var s2 = SignedSum32(blk + 10, q + b * 128 + 64, nq + b * 128 + 64);
            var s3 = SignedSum32(blk + 14, q + b * 128 + 96, nq + b * 128 + 96);
            var h = Avx2.HorizontalAdd(Avx2.HorizontalAdd(s0, s1), Avx2.HorizontalAdd(s2, s3));
            var s = Sse2.ConvertToVector128Single(Sse2.Add(h.GetLower(), h.GetUpper()));
            float inner = d[4 * b] * s.GetElement(0);
            inner = MathF.FusedMultiplyAdd(d[4 * b + 1], s.GetElement(1), inner);
            inner = MathF.FusedMultiplyAdd(d[4 * b + 2], s.GetElement(2), inner);
            inner = MathF.FusedMultiplyAdd(d[4 * b + 3], s.GetElement(3), inner);
            acc = MathF.FusedMultiplyAdd(HalfConvert.ToFloat(*(ushort*)blk), inner, acc);
        }
        return acc;
    }

    /// <summary>8 int32 sums of ±x over 4 consecutive weights each, + where a bit of the 32 at <paramref name="bits"/> is set.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> SignedSum32(byte* bits, sbyte* x, sbyte* negX)
    {
        // byte i of the group reads bit (i % 8) of byte (i / 8) of its 4 bytes of bits.
        var spread = Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                      2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var bit = Vector256.Create(0x8040201008040201UL).AsByte();
        var b = Vector256.Create(*(uint*)bits).AsByte();
        var set = Avx2.CompareEqual(Avx2.And(Avx2.Shuffle(b, spread), bit), bit);
        var sx = Avx2.BlendVariable(Avx.LoadVector256(negX), Avx.LoadVector256(x), set.AsSByte()); // x where set, −x where clear
        return IntDot.MulSumU8I8(Vector256.Create((byte)1), sx);
    }

    // ---------------------------------------------------------------- tables

    /// <summary>
    /// The tables, by definition. For block b and byte position j (0–3) of each group of 32, 256 bytes at (4b + j)·256:
    /// four 64-byte tables — low nibbles' low parts, low nibbles' high parts, high nibbles' low parts, high nibbles' high
    /// parts — whose 16-byte lane L holds entry p for the four columns c = 128b + 32L + 8j + 4·nibble + i (i &lt; 4):
    /// T[p] = Σ_i (bit i of p ? q_c : −q_c), stored as (T[p] + 508) mod 32 and (T[p] + 508) / 32. Byte 4L + j of a
    /// block's bits is exactly columns 128b + 32L + 8j … + 7.
    /// </summary>
    internal static void BuildTablesReference(sbyte* q, int cols, byte* tables)
    {
        for (int b = 0; b < cols / 128; b++)
        for (int j = 0; j < 4; j++)
        for (int nib = 0; nib < 2; nib++)
        for (int lane = 0; lane < 4; lane++)
        for (int p = 0; p < 16; p++)
        {
            int t = 0;
            for (int i = 0; i < 4; i++)
            {
                int v = q[128 * b + 32 * lane + 8 * j + 4 * nib + i];
                t += ((p >> i) & 1) != 0 ? v : -v;
            }
            byte* at = tables + (4 * b + j) * 256 + nib * 128 + 16 * lane + p;
            at[0] = (byte)((t + EntryOffset) & 31);
            at[64] = (byte)((t + EntryOffset) >> 5);
        }
    }

    /// <summary><see cref="BuildTablesReference"/> with AVX2: per table, the four codes broadcast by shuffles, signed by
    /// ±1 patterns and added as 16-bit lanes, then split into low and high parts.</summary>
    internal static void BuildTablesAvx2(GemvContext* c)
    {
        int cols = c->Cols;
        byte* tables = c->Tables = Scratch.Get(3, (nuint)(8 * cols));
        sbyte* q = c->Act.Q;
        var split = Vector256.Create((byte)0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                     0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
        var sign0 = SignPattern256(0); var sign1 = SignPattern256(1);
        var sign2 = SignPattern256(2); var sign3 = SignPattern256(3);
        for (int b = 0; b < cols / 128; b++)
        for (int j = 0; j < 4; j++)
        for (int lane = 0; lane < 4; lane++)
        {
            var x = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(*(long*)(q + 128 * b + 32 * lane + 8 * j)).AsSByte());
            var xx = Vector256.Create(x, x).AsByte();
            for (int nib = 0; nib < 2; nib++)
            {
                var e = sign0 * Avx2.Shuffle(xx, WordBroadcast256(4 * nib)).AsInt16()
                      + sign1 * Avx2.Shuffle(xx, WordBroadcast256(4 * nib + 1)).AsInt16()
                      + sign2 * Avx2.Shuffle(xx, WordBroadcast256(4 * nib + 2)).AsInt16()
                      + sign3 * Avx2.Shuffle(xx, WordBroadcast256(4 * nib + 3)).AsInt16();
                // per lane: 8 low parts then 8 high parts; the qword permute gathers the low parts of all 16 entries first.
                var bytes = Avx2.Permute4x64(Avx2.Shuffle(Parts(e).AsByte(), split).AsInt64(), 0b11_01_10_00).AsByte();
                byte* at = tables + (4 * b + j) * 256 + nib * 128 + 16 * lane;
                bytes.GetLower().Store(at);
                bytes.GetUpper().Store(at + 64);
            }
        }
    }

    /// <summary>Table entries (words) as the two bytes the tables store: (T + 508) mod 32 in the low byte, (T + 508) / 32 in the high.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Parts(Vector256<short> e)
    {
        var u = e + Vector256.Create((short)EntryOffset);
        return (u & Vector256.Create((short)31)) | ((u >> 5) << 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> Parts(Vector512<short> e)
    {
        var u = e + Vector512.Create((short)EntryOffset);
        return (u & Vector512.Create((short)31)) | ((u >> 5) << 8);
    }

    /// <summary>16 words: +1 where bit <paramref name="i"/> of the word's index is set, −1 where clear.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> SignPattern256(int i)
    {
        var p = Vector256.Create((short)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        return ((p >> i) & Vector256.Create((short)1)) * Vector256.Create((short)2) - Vector256.Create((short)1);
    }

    /// <summary>The byte shuffle that repeats word <paramref name="w"/> of each 128-bit lane over the lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> WordBroadcast256(int w) =>
        Vector256.Create((ushort)((2 * w + 1) << 8 | 2 * w)).AsByte();

    /// <summary><see cref="BuildTablesReference"/> with AVX-512 (BW, VBMI): the eight codes of each lane's two tables
    /// widened to words, each table pair's entries built in one register by word permutes, then split into low and
    /// high parts by byte permutes.</summary>
    internal static void BuildTablesAvx512(GemvContext* c)
    {
        int cols = c->Cols;
        byte* tables = c->Tables = Scratch.Get(3, (nuint)(8 * cols));
        sbyte* q = c->Act.Q;
        // word 16h + p of a table pair (lanes 2·half + h) reads code 8h of the widened codes, plus the column offset.
        var pairBase = Vector512.Create((short)0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8);
        var sign0 = SignPattern512(0); var sign1 = SignPattern512(1);
        var sign2 = SignPattern512(2); var sign3 = SignPattern512(3);
        var low = LowBytes; var high = HighBytes;
        for (int b = 0; b < cols / 128; b++)
        for (int j = 0; j < 4; j++)
        {
            sbyte* src = q + 128 * b + 8 * j;
            var codes = Avx512BW.ConvertToVector512Int16(
                Vector256.Create(*(long*)src, *(long*)(src + 32), *(long*)(src + 64), *(long*)(src + 96)).AsSByte());
            byte* at = tables + (4 * b + j) * 256;
            for (int nib = 0; nib < 2; nib++)
            {
                var lanes01 = TablePair(codes, pairBase + Vector512.Create((short)(4 * nib)), sign0, sign1, sign2, sign3);
                var lanes23 = TablePair(codes, pairBase + Vector512.Create((short)(16 + 4 * nib)), sign0, sign1, sign2, sign3);
                lanes01 = Parts(lanes01); lanes23 = Parts(lanes23);
                Avx512Vbmi.PermuteVar64x8x2(lanes01.AsByte(), low, lanes23.AsByte()).Store(at + nib * 128);
                Avx512Vbmi.PermuteVar64x8x2(lanes01.AsByte(), high, lanes23.AsByte()).Store(at + nib * 128 + 64);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> TablePair(Vector512<short> codes, Vector512<short> index, Vector512<short> sign0,
        Vector512<short> sign1, Vector512<short> sign2, Vector512<short> sign3) =>
        sign0 * Avx512BW.PermuteVar32x16(codes, index)
        + sign1 * Avx512BW.PermuteVar32x16(codes, index + Vector512.Create((short)1))
        + sign2 * Avx512BW.PermuteVar32x16(codes, index + Vector512.Create((short)2))
        + sign3 * Avx512BW.PermuteVar32x16(codes, index + Vector512.Create((short)3));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> SignPattern512(int i)
    {
        var p = Vector512.Create((short)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        return ((p >> i) & Vector512.Create((short)1)) * Vector512.Create((short)2) - Vector512.Create((short)1);
    }

    // ---------------------------------------------------------------- sixteen rows

    /// <summary>
    /// Sixteen rows, AVX-512 with VBMI. Per block: the rows' 16 bytes of bits are transposed by two rounds of
    /// two-source byte permutes into V_j (j &lt; 4), whose lane L holds byte 4L + j of each of the 16 rows (row r at
    /// byte r), so lane L reads group L's tables. Per V_j, its low and high nibbles are looked up in the low- and
    /// high-part tables and added bytewise over j; the block's two byte counts make 16-bit S_L for rows 0–7 and 8–15
    /// (<see cref="Sums(Vector512{byte}, Vector512{byte}, out Vector512{short}, out Vector512{short})"/>). Then the
    /// float steps, with the sixteen rows in the sixteen float lanes.
    /// </summary>
    internal static void Dot16Avx512Vbmi(byte* row, GemvContext* c, float* y)
    {
        int nb = c->Cols / 128;
        long rb = c->RowBytes;
        long ahead = c->Ahead == 0 ? 0 : Math.Max(c->Ahead, 16 * rb);
        byte* tables = c->Tables;
        float* d = c->Act.D;
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + (long)b * BlockQ1_0.Size;
            if (b % 3 == 0) Prefetch16(blk + ahead, rb);
            Transpose16(blk + 2, rb, out var v0, out var v1, out var v2, out var v3);
            byte* t = tables + (long)b * TableBytesPerBlock;
            var low = Vector512<byte>.Zero; var high = Vector512<byte>.Zero;
            Lookup(v0, t, ref low, ref high);
            Lookup(v1, t + 256, ref low, ref high);
            Lookup(v2, t + 512, ref low, ref high);
            Lookup(v3, t + 768, ref low, ref high);
            Sums(low, high, out var lo, out var hi);
            var inner = Inner(lo, hi, d + 4 * b);
            var scales = Vector256.Create(Scales4(blk, rb), Scales4(blk + 4 * rb, rb), Scales4(blk + 8 * rb, rb), Scales4(blk + 12 * rb, rb));
            acc = Avx512F.FusedMultiplyAdd(HalfConvert.ToFloat(Avx512F.ConvertToVector512UInt32(scales.AsUInt16())), inner, acc);
        }
        acc.Store(y);
    }

    /// <summary>
    /// One block's sign bits of sixteen rows (16 bytes at <paramref name="p"/> + r·rb) as V_0..V_3, whose lane L holds
    /// byte 4L + j of each row (row r at byte r): two rounds of two-source byte permutes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose16(byte* p, long rb, out Vector512<byte> v0, out Vector512<byte> v1, out Vector512<byte> v2,
        out Vector512<byte> v3)
    {
        var pairs = Transpose1; var pairs23 = Transpose1 + Vector512.Create((byte)2);
        var z0 = Rows4(p, rb); var z1 = Rows4(p + 4 * rb, rb);
        var z2 = Rows4(p + 8 * rb, rb); var z3 = Rows4(p + 12 * rb, rb);
        var a01 = Avx512Vbmi.PermuteVar64x8x2(z0, pairs, z1);   // rows 0–7, j = 0 and 1
        var a23 = Avx512Vbmi.PermuteVar64x8x2(z0, pairs23, z1); // rows 0–7, j = 2 and 3
        var b01 = Avx512Vbmi.PermuteVar64x8x2(z2, pairs, z3);   // rows 8–15
        var b23 = Avx512Vbmi.PermuteVar64x8x2(z2, pairs23, z3);
        v0 = Avx512Vbmi.PermuteVar64x8x2(a01, Transpose2Even, b01);
        v1 = Avx512Vbmi.PermuteVar64x8x2(a01, Transpose2Odd, b01);
        v2 = Avx512Vbmi.PermuteVar64x8x2(a23, Transpose2Even, b23);
        v3 = Avx512Vbmi.PermuteVar64x8x2(a23, Transpose2Odd, b23);
    }

    /// <summary>
    /// The line at <paramref name="p"/> in each of sixteen rows: the same block of the next sixteen rows, which this thread
    /// reads next. Every third block (54 bytes apart, under a 64-byte line) reaches every line of a row; prefetching
    /// every block measured the same in memory and cost 15 % in cache. Without prefetches 8B q1_0 decode halved.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Prefetch16(byte* p, long rb)
    {
        for (int r = 0; r < 16; r++) KernelPrefetch.Line(p + r * rb);
    }

    /// <summary>
    /// The fp16 scales of one block in four consecutive rows, packed into one 64-bit word in row order: four scalar loads
    /// combined on the integer units, which left the vector units more time than two 8-lane gathers did (one core on
    /// cached weights 12.1 → 13.3 GB/s; 8B decode 18.8–21.3 → 19.6–22.6 tok/s, alternated).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Scales4(byte* blk, long rb) =>
        *(ushort*)blk | (ulong)*(ushort*)(blk + rb) << 16 | (ulong)*(ushort*)(blk + 2 * rb) << 32 | (ulong)*(ushort*)(blk + 3 * rb) << 48;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Rows4(byte* p, long rb) =>
        Avx512F.InsertVector256(Vector256.Create(Vector128.Load(p), Vector128.Load(p + rb)).ToVector512Unsafe(),
                                Vector256.Create(Vector128.Load(p + 2 * rb), Vector128.Load(p + 3 * rb)), 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(Vector256<short> s) =>
        Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(s));

    /// <summary>Adds the table parts for V's low and high nibbles, bytewise: low parts to <paramref name="low"/>, high parts
    /// to <paramref name="high"/> (byte r of lane L: row r, group L). Eight lookups stay below 256.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lookup(Vector512<byte> v, byte* t, ref Vector512<byte> low, ref Vector512<byte> high)
    {
        var mask = Vector512.Create((byte)0x0f);
        var n0 = v & mask;
        var n1 = (v.AsUInt16() >> 4).AsByte() & mask;
        low += Avx512BW.Shuffle(Vector512.Load(t), n0) + Avx512BW.Shuffle(Vector512.Load(t + 128), n1);
        high += Avx512BW.Shuffle(Vector512.Load(t + 64), n0) + Avx512BW.Shuffle(Vector512.Load(t + 192), n1);
    }

    /// <summary>The sixteen rows' S per group from a block's eight lookups: 32·high + low − 8·508, as 16-bit sums — rows 0–7
    /// of group L in lane L of <paramref name="lo"/>, rows 8–15 in <paramref name="hi"/> (one multiply-add per half puts
    /// each row's two byte counts together).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums(Vector512<byte> low, Vector512<byte> high, out Vector512<short> lo, out Vector512<short> hi)
    {
        var weights = Vector512.Create((ushort)(32 << 8 | 1)).AsSByte();
        var offset = Vector512.Create((short)(8 * EntryOffset));
        lo = Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackLow(low, high), weights) - offset;
        hi = Avx512BW.MultiplyAddAdjacent(Avx512BW.UnpackHigh(low, high), weights) - offset;
    }

    /// <summary>The float steps before the weight scale, for sixteen rows: lane L of <paramref name="lo"/> holds group L's sums
    /// of rows 0–7, of <paramref name="hi"/> rows 8–15; inner = d_0·S_0, then fma(d_k, S_k, inner) for k = 1, 2, 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Inner(Vector512<short> lo, Vector512<short> hi, float* d)
    {
        // group L's sums for rows 0–7 and 8–15 side by side, then widened.
        var s01 = Avx512F.PermuteVar8x64x2(lo.AsInt64(), Vector512.Create(0L, 1, 8, 9, 2, 3, 10, 11), hi.AsInt64()).AsInt16();
        var s23 = Avx512F.PermuteVar8x64x2(lo.AsInt64(), Vector512.Create(4L, 5, 12, 13, 6, 7, 14, 15), hi.AsInt64()).AsInt16();
        var inner = Vector512.Create(d[0]) * Widen(s01.GetLower());
        inner = Avx512F.FusedMultiplyAdd(Vector512.Create(d[1]), Widen(s01.GetUpper()), inner);
        inner = Avx512F.FusedMultiplyAdd(Vector512.Create(d[2]), Widen(s23.GetLower()), inner);
        return Avx512F.FusedMultiplyAdd(Vector512.Create(d[3]), Widen(s23.GetUpper()), inner);
    }

    /// <summary>First transpose round: from rows 0–7 (byte 16r + k of the two sources), byte 32·j' + 8L + r takes
    /// byte 4L + j' of row r (j' = 0, 1; add 2 for j = 2, 3).</summary>
    private static readonly Vector512<byte> Transpose1 = Table(i => 16 * (i % 8) + 4 * (i / 8 % 4) + i / 32);

    /// <summary>Second round: byte 16L + r of V_j takes row r's byte of group L from the rows 0–7 (r &lt; 8) or 8–15 source.</summary>
    private static readonly Vector512<byte> Transpose2Even = Table(i => (i % 16 < 8 ? 0 : 64) + 8 * (i / 16) + i % 8);
    private static readonly Vector512<byte> Transpose2Odd = Table(i => (i % 16 < 8 ? 0 : 64) + 32 + 8 * (i / 16) + i % 8);

    /// <summary>The even and the odd bytes of two sources: the low and the high bytes of their 16-bit table entries.</summary>
    private static readonly Vector512<byte> LowBytes = Table(i => 2 * i), HighBytes = Table(i => 2 * i + 1);

    private static Vector512<byte> Table(Func<int, int> f)
    {
        var v = new byte[64];
        for (int i = 0; i < 64; i++) v[i] = (byte)f(i);
        return Vector512.Create(v);
    }

    /// <summary>
    /// <see cref="Dot16Avx512Vbmi"/> with 256-bit registers (AVX2, and AVX-512 without VBMI): the 16×16 byte transpose is
    /// three rounds of unpacks over row pairs (r, r + 8) held in one register's two lanes, then a qword round; each V_j
    /// spans two registers (groups 0–1 and 2–3), and rows 0–7 and 8–15 end in two float registers.
    /// </summary>
    internal static void Dot16Avx2(byte* row, GemvContext* c, float* y)
    {
        int nb = c->Cols / 128;
        long rb = c->RowBytes;
        long ahead = c->Ahead == 0 ? 0 : Math.Max(c->Ahead, 16 * rb);
        byte* tables = c->Tables;
        float* d = c->Act.D;
        var acc0 = Vector256<float>.Zero; var acc8 = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + (long)b * BlockQ1_0.Size;
            if (b % 3 == 0) Prefetch16(blk + ahead, rb);
            byte* p = blk + 2;
            // lane 0 of y_i is row i, lane 1 row i + 8.
            var y0 = Pair(p, rb, 0); var y1 = Pair(p, rb, 1); var y2 = Pair(p, rb, 2); var y3 = Pair(p, rb, 3);
            var y4 = Pair(p, rb, 4); var y5 = Pair(p, rb, 5); var y6 = Pair(p, rb, 6); var y7 = Pair(p, rb, 7);
            // bytes → words: word k of u holds byte k of two rows.
            var u0 = Avx2.UnpackLow(y0, y1).AsInt16(); var u1 = Avx2.UnpackHigh(y0, y1).AsInt16();
            var u2 = Avx2.UnpackLow(y2, y3).AsInt16(); var u3 = Avx2.UnpackHigh(y2, y3).AsInt16();
            var u4 = Avx2.UnpackLow(y4, y5).AsInt16(); var u5 = Avx2.UnpackHigh(y4, y5).AsInt16();
            var u6 = Avx2.UnpackLow(y6, y7).AsInt16(); var u7 = Avx2.UnpackHigh(y6, y7).AsInt16();
            // words → dwords: dword k of w holds byte k of four rows.
            var w0 = Avx2.UnpackLow(u0, u2).AsInt32(); var w1 = Avx2.UnpackHigh(u0, u2).AsInt32();
            var w2 = Avx2.UnpackLow(u1, u3).AsInt32(); var w3 = Avx2.UnpackHigh(u1, u3).AsInt32();
            var w4 = Avx2.UnpackLow(u4, u6).AsInt32(); var w5 = Avx2.UnpackHigh(u4, u6).AsInt32();
            var w6 = Avx2.UnpackLow(u5, u7).AsInt32(); var w7 = Avx2.UnpackHigh(u5, u7).AsInt32();
            // dwords → qwords: qword h of x_m holds byte 2m + h of eight rows (0–7 in lane 0, 8–15 in lane 1).
            var x0 = Avx2.UnpackLow(w0, w4).AsInt64(); var x1 = Avx2.UnpackHigh(w0, w4).AsInt64();
            var x2 = Avx2.UnpackLow(w1, w5).AsInt64(); var x3 = Avx2.UnpackHigh(w1, w5).AsInt64();
            var x4 = Avx2.UnpackLow(w2, w6).AsInt64(); var x5 = Avx2.UnpackHigh(w2, w6).AsInt64();
            var x6 = Avx2.UnpackLow(w3, w7).AsInt64(); var x7 = Avx2.UnpackHigh(w3, w7).AsInt64();
            byte* t = tables + (long)b * TableBytesPerBlock;
            var low01 = Vector256<byte>.Zero; var high01 = Vector256<byte>.Zero;
            var low23 = Vector256<byte>.Zero; var high23 = Vector256<byte>.Zero;
            // V_j for groups 0–1 is [byte j | byte 4 + j] of all 16 rows, for groups 2–3 [byte 8 + j | byte 12 + j].
            Lookup(Bytes(Avx2.UnpackLow(x0, x2)), t, ref low01, ref high01);
            Lookup(Bytes(Avx2.UnpackHigh(x0, x2)), t + 256, ref low01, ref high01);
            Lookup(Bytes(Avx2.UnpackLow(x1, x3)), t + 512, ref low01, ref high01);
            Lookup(Bytes(Avx2.UnpackHigh(x1, x3)), t + 768, ref low01, ref high01);
            Lookup(Bytes(Avx2.UnpackLow(x4, x6)), t + 32, ref low23, ref high23);
            Lookup(Bytes(Avx2.UnpackHigh(x4, x6)), t + 256 + 32, ref low23, ref high23);
            Lookup(Bytes(Avx2.UnpackLow(x5, x7)), t + 512 + 32, ref low23, ref high23);
            Lookup(Bytes(Avx2.UnpackHigh(x5, x7)), t + 768 + 32, ref low23, ref high23);
            Sums(low01, high01, out var lo01, out var hi01);
            Sums(low23, high23, out var lo23, out var hi23);
            var inner0 = Inner(lo01, lo23, d + 4 * b);
            var inner8 = Inner(hi01, hi23, d + 4 * b);
            var scales0 = Vector128.Create(Scales4(blk, rb), Scales4(blk + 4 * rb, rb)).AsUInt16();
            var scales8 = Vector128.Create(Scales4(blk + 8 * rb, rb), Scales4(blk + 12 * rb, rb)).AsUInt16();
            acc0 = Fma.MultiplyAdd(HalfConvert.ToFloat(Avx2.ConvertToVector256Int32(scales0).AsUInt32()), inner0, acc0);
            acc8 = Fma.MultiplyAdd(HalfConvert.ToFloat(Avx2.ConvertToVector256Int32(scales8).AsUInt32()), inner8, acc8);
        }
        acc0.Store(y);
        acc8.Store(y + 8);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Pair(byte* p, long rb, int i) =>
        Vector256.Create(Vector128.Load(p + i * rb), Vector128.Load(p + (i + 8) * rb));

    /// <summary>[qword 0 of both lanes | qword 1 of both lanes]: the byte's 16 rows in one lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Bytes(Vector256<long> v) => Avx2.Permute4x64(v, 0b11_01_10_00).AsByte();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen(Vector128<short> s) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(s));

    /// <summary>The float steps before the weight scale, for eight rows: <paramref name="s01"/> holds their sums of groups 0
    /// and 1 (one per 128-bit lane), <paramref name="s23"/> of groups 2 and 3.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Inner(Vector256<short> s01, Vector256<short> s23, float* d)
    {
        var inner = Vector256.Create(d[0]) * Widen(s01.GetLower());
        inner = Fma.MultiplyAdd(Vector256.Create(d[1]), Widen(s01.GetUpper()), inner);
        inner = Fma.MultiplyAdd(Vector256.Create(d[2]), Widen(s23.GetLower()), inner);
        return Fma.MultiplyAdd(Vector256.Create(d[3]), Widen(s23.GetUpper()), inner);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Lookup(Vector256<byte> v, byte* t, ref Vector256<byte> low, ref Vector256<byte> high)
    {
        var mask = Vector256.Create((byte)0x0f);
        var n0 = v & mask;
        var n1 = (v.AsUInt16() >> 4).AsByte() & mask;
        low += Avx2.Shuffle(Vector256.Load(t), n0) + Avx2.Shuffle(Vector256.Load(t + 128), n1);
        high += Avx2.Shuffle(Vector256.Load(t + 64), n0) + Avx2.Shuffle(Vector256.Load(t + 192), n1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums(Vector256<byte> low, Vector256<byte> high, out Vector256<short> lo, out Vector256<short> hi)
    {
        var weights = Vector256.Create((ushort)(32 << 8 | 1)).AsSByte();
        var offset = Vector256.Create((short)(8 * EntryOffset));
        lo = Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(low, high), weights) - offset;
        hi = Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(low, high), weights) - offset;
    }

    // ---------------------------------------------------------------- decode layout (COMPRESS_REPACK)

    /// <summary>Bytes of the decode layout of a matrix of <paramref name="rows"/> rows of <paramref name="rowBytes"/>:
    /// its full sixteen-row groups (the rows past the last one are read from the file).</summary>
    internal static long LayoutBytes(int rows, long rowBytes) => rows / 16 * 16 * rowBytes;

    /// <summary>
    /// The decode layout: each group of sixteen rows in the same 16·rb bytes, at the same offset, as the sixteen-row
    /// kernels read it after their transposes — for block b, 256 bytes of sign bits at 256b, V_j (j &lt; 4) at 64j, whose
    /// byte 16L + r is byte 4L + j of row r's bits (lane L of V_j reads group L's tables, as in <see cref="Dot16Avx512Vbmi"/>);
    /// then every block's sixteen fp16 scales in row order, at 256·nb + 32b. Sign bits and scales are two sequential
    /// streams per group, against sixteen rows' worth of 18-byte blocks in the file.
    /// </summary>
    internal static void WriteLayout(byte* packed, int rows, int cols, byte* layout)
    {
        bool vbmi = Avx512Vbmi.IsSupported && KernelIsa.Current >= IsaLevel.Avx512 && KernelIsa.Vbmi;
        var job = (P: (nint)packed, L: (nint)layout, Cols: cols, Vbmi: vbmi);
        RowParallel.For(rows / 16, 1, 2, &WriteGroups, (nint)(&job));
    }

    private static void WriteGroups(nint ctx, int start, int end)
    {
        var job = (ValueTuple<nint, nint, int, bool>*)ctx;
        int cols = job->Item3;
        long rb = (long)(cols / 128) * BlockQ1_0.Size;
        for (int g = start; g < end; g++)
        {
            byte* src = (byte*)job->Item1 + g * 16 * rb, dst = (byte*)job->Item2 + g * 16 * rb;
            if (job->Item4) WriteGroupAvx512Vbmi(src, rb, cols, dst);
            else WriteGroupReference(src, rb, cols, dst);
        }
    }

    /// <summary>One group of <see cref="WriteLayout"/>, byte by byte: the definition.</summary>
    internal static void WriteGroupReference(byte* src, long rb, int cols, byte* dst)
    {
        int nb = cols / 128;
        ushort* scales = (ushort*)(dst + 256L * nb);
        for (int b = 0; b < nb; b++)
        for (int r = 0; r < 16; r++)
        {
            byte* blk = src + r * rb + (long)b * BlockQ1_0.Size;
            scales[16 * b + r] = *(ushort*)blk;
            for (int j = 0; j < 4; j++)
            for (int lane = 0; lane < 4; lane++)
                dst[256L * b + 64 * j + 16 * lane + r] = blk[2 + 4 * lane + j];
        }
    }

    /// <summary>One group of <see cref="WriteLayout"/> with <see cref="Dot16Avx512Vbmi"/>'s own transposes (the same V_j).</summary>
    internal static void WriteGroupAvx512Vbmi(byte* src, long rb, int cols, byte* dst)
    {
        int nb = cols / 128;
        ushort* scales = (ushort*)(dst + 256L * nb);
        for (int b = 0; b < nb; b++)
        {
            byte* blk = src + (long)b * BlockQ1_0.Size;
            Transpose16(blk + 2, rb, out var v0, out var v1, out var v2, out var v3);
            byte* v = dst + 256L * b;
            v0.Store(v);
            v1.Store(v + 64);
            v2.Store(v + 128);
            v3.Store(v + 192);
            for (int r = 0; r < 16; r++) scales[16 * b + r] = *(ushort*)(blk + r * rb);
        }
    }

    /// <summary>
    /// <see cref="Dot16Avx512Vbmi"/> over the decode layout: per block four aligned 64-byte loads are V_0..V_3 and one
    /// 32-byte load the sixteen scales. Same lookups, same float steps, same bits. One core on cached weights, 256×4096:
    /// 10.1 → 17.2 GB/s (the transposes and the scale gathers were the rest).
    /// </summary>
    internal static void Dot16LayoutAvx512(byte* group, GemvContext* c, float* y)
    {
        int nb = c->Cols / 128;
        byte* tables = c->Tables;
        float* d = c->Act.D;
        ushort* scales = (ushort*)(group + 256L * nb);
        // the same position of the next group (this thread's next pass), as far ahead as the file's kernels look.
        long ahead = c->Ahead == 0 ? 0 : 16 * c->RowBytes;
        var acc = Vector512<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + 256L * b;
            PrefetchLayout(p + ahead, (byte*)(scales + 16 * b) + ahead, b);
            byte* t = tables + (long)b * TableBytesPerBlock;
            var low = Vector512<byte>.Zero; var high = Vector512<byte>.Zero;
            Lookup(Vector512.Load(p), t, ref low, ref high);
            Lookup(Vector512.Load(p + 64), t + 256, ref low, ref high);
            Lookup(Vector512.Load(p + 128), t + 512, ref low, ref high);
            Lookup(Vector512.Load(p + 192), t + 768, ref low, ref high);
            Sums(low, high, out var lo, out var hi);
            var inner = Inner(lo, hi, d + 4 * b);
            var dw = HalfConvert.ToFloat(Avx512F.ConvertToVector512UInt32(Vector256.Load(scales + 16 * b)));
            acc = Avx512F.FusedMultiplyAdd(dw, inner, acc);
        }
        acc.Store(y);
    }

    /// <summary><see cref="Dot16Avx2"/> over the decode layout: V_j's first 32 bytes are groups 0–1, its last 32 groups 2–3.</summary>
    internal static void Dot16LayoutAvx2(byte* group, GemvContext* c, float* y)
    {
        int nb = c->Cols / 128;
        byte* tables = c->Tables;
        float* d = c->Act.D;
        ushort* scales = (ushort*)(group + 256L * nb);
        long ahead = c->Ahead == 0 ? 0 : 16 * c->RowBytes;
        var acc0 = Vector256<float>.Zero; var acc8 = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* p = group + 256L * b;
            PrefetchLayout(p + ahead, (byte*)(scales + 16 * b) + ahead, b);
            byte* t = tables + (long)b * TableBytesPerBlock;
            var low01 = Vector256<byte>.Zero; var high01 = Vector256<byte>.Zero;
            var low23 = Vector256<byte>.Zero; var high23 = Vector256<byte>.Zero;
            for (int j = 0; j < 4; j++)
            {
                Lookup(Vector256.Load(p + 64 * j), t + 256 * j, ref low01, ref high01);
                Lookup(Vector256.Load(p + 64 * j + 32), t + 256 * j + 32, ref low23, ref high23);
            }
            Sums(low01, high01, out var lo01, out var hi01);
            Sums(low23, high23, out var lo23, out var hi23);
            var inner0 = Inner(lo01, lo23, d + 4 * b);
            var inner8 = Inner(hi01, hi23, d + 4 * b);
            acc0 = Fma.MultiplyAdd(HalfConvert.ToFloat(Avx2.ConvertToVector256Int32(scales + 16 * b).AsUInt32()), inner0, acc0);
            acc8 = Fma.MultiplyAdd(HalfConvert.ToFloat(Avx2.ConvertToVector256Int32(scales + 16 * b + 8).AsUInt32()), inner8, acc8);
        }
        acc0.Store(y);
        acc8.Store(y + 8);
    }

    /// <summary>A block's four lines of sign bits, and every other block the line of scales, at the same place in the
    /// group this thread reads next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchLayout(byte* bits, byte* scales, int b)
    {
        KernelPrefetch.Line(bits);
        KernelPrefetch.Line(bits + 64);
        KernelPrefetch.Line(bits + 128);
        KernelPrefetch.Line(bits + 192);
        if ((b & 1) == 0) KernelPrefetch.Line(scales);
    }
}
