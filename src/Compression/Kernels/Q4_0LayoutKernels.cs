// Q4_0Kernels (decode layout): q4_0 decode GEMV from a copy of the weights laid out eight rows to a register (COMPRESS_REPACK).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

public static unsafe partial class Q4_0Kernels
{
    // ---------------------------------------------------------------- decode layout (COMPRESS_REPACK)
    //
    // The file's kernels give each row eight int32 lanes per block and turn every block's lanes into floats, scale and
    // accumulate them per row: per 32 weights a broadcast load, an AND, a vpdpbusd, a conversion, two scalar loads for
    // the fp16 scale (an index into the conversion table), a multiply and an FMA — one core ran ~26 GB/s on cached
    // weights, and at 8B shape two cores stayed near half of the read bandwidth. In the layout one int32 lane is one
    // row: a 32-byte load holds four codes of each of eight rows, which one vpdpbusd multiplies with four activations
    // broadcast to all lanes, and eight rows' block sums are converted, scaled and added in one vector each. Per 32
    // weights that is two thirds of the vector work and a third of the loads (one core on cached weights: ~40 GB/s), and every
    // row is computed in the order of the scalar reference — Σ (d_w·d_x)·Σq, block after block — so the layout's
    // results are the reference's bits (the file's kernels sum eight lanes per row and differ from it by rounding).

    /// <summary>Bytes of the decode layout of a matrix of <paramref name="rows"/> rows of <paramref name="rowBytes"/>:
    /// its full sixteen-row groups (the rows past the last one are read from the file).</summary>
    internal static long LayoutBytes(int rows, long rowBytes) => rows / 16 * 16 * rowBytes;

    /// <summary>
    /// The decode layout: each group of eight rows in the same 8·rb bytes, at the same offset. For block b, 128 bytes
    /// of codes at 128b — four 32-byte steps, step m holding bytes 4m..4m+3 of each row's 16 code bytes at 4r (row r's
    /// weights 4m..4m+3 in its low nibbles, 16+4m..16+4m+3 in its high ones) — then every block's eight fp16 scales in
    /// row order, at 128·nb + 16b. Codes and scales are two sequential streams per group, against eight rows' worth of
    /// 18-byte blocks in the file.
    /// </summary>
    internal static void WriteLayout(byte* packed, int rows, int cols, byte* layout)
    {
        var job = (P: (nint)packed, L: (nint)layout, Cols: cols);
        RowParallel.For(rows / 16 * 2, 1, 2, &WriteGroups, (nint)(&job));
    }

    private static void WriteGroups(nint ctx, int start, int end)
    {
        var job = (ValueTuple<nint, nint, int>*)ctx;
        int cols = job->Item3;
        long rb = (long)(cols / 32) * BlockQ4_0.Size;
        for (int g = start; g < end; g++) WriteGroup((byte*)job->Item1 + g * 8 * rb, rb, cols, (byte*)job->Item2 + g * 8 * rb);
    }

    /// <summary>One eight-row group of <see cref="WriteLayout"/>.</summary>
    internal static void WriteGroup(byte* src, long rb, int cols, byte* dst)
    {
        int nb = cols / 32;
        ushort* scales = (ushort*)(dst + 128L * nb);
        for (int r = 0; r < 8; r++)
        {
            byte* row = src + r * rb;
            for (int b = 0; b < nb; b++)
            {
                byte* blk = row + (long)b * BlockQ4_0.Size;
                scales[8 * b + r] = *(ushort*)blk;
                uint* steps = (uint*)(dst + 128L * b) + r;
                for (int m = 0; m < 4; m++) steps[8 * m] = Unsafe.ReadUnaligned<uint>(blk + 2 + 4 * m);
            }
        }
    }

    /// <summary>The layout's sixteen-row kernel (two eight-row groups), with the exact scale conversion; its prepare step
    /// (<see cref="PickLayoutPrepare"/>) swaps in the scaled reads where they give the same bits.</summary>
    private static delegate*<byte*, GemvContext*, float*, void> PickLayout16(bool vnni) => vnni ? &Dot16LayoutVnni : &Dot16LayoutAvx2;

    private static delegate*<GemvContext*, void> PickLayoutPrepare(bool vnni) => vnni ? &PrepareLayoutVnni : &PrepareLayoutAvx2;

    private static void PrepareLayoutVnni(GemvContext* c) { if (PrepareLayout(c)) c->Dot16 = &Dot16LayoutVnniScaled; }
    private static void PrepareLayoutAvx2(GemvContext* c) { if (PrepareLayout(c)) c->Dot16 = &Dot16LayoutAvx2Scaled; }

    /// <summary>
    /// Per block, the bias −8·Σ x̂ (<see cref="GemvContext.BlockBias"/>: the codes are unsigned, w = q − 8) and d_x·2^112
    /// (<see cref="GemvContext.XScaled"/>), into this thread's scratch slot 4. Returns whether the kernel reads the scales
    /// as 2^-112 times their value: where subnormal operands cost nothing (<see cref="HalfConvert.ScaledReads"/>). Both
    /// factors are exact — d_x is an fp16 value, so d_x·2^112 is finite (below 2^128) or d_x was already Inf — so
    /// (h·2^-112)·(d_x·2^112) is the product h·d_x, rounded once: the same bits.
    /// </summary>
    private static bool PrepareLayout(GemvContext* c)
    {
        int nb = c->Cols / 32;
        byte* mem = Scratch.Get(4, (nuint)(8 * nb));
        int* bias = (int*)mem;
        float* scaled = (float*)(mem + 4 * nb);
        for (int b = 0; b < nb; b++)
        {
            bias[b] = -Vector256.Sum(Vector256.Load(c->Act.Sum4x8 + 8 * b)); // Σ of 8·Σ4 x̂ over the block's lanes
            scaled[b] = c->Act.D[b] * HalfConvert.ScaledUnit;
        }
        c->BlockBias = bias;
        c->XScaled = scaled;
        return HalfConvert.ScaledReads ?? HalfConvert.SubnormalOperandsAreFree;
    }

    private static void Dot16LayoutVnni(byte* group, GemvContext* c, float* y) => Dot16Layout(group, c, y, vnni: true, scaled: false);
    private static void Dot16LayoutAvx2(byte* group, GemvContext* c, float* y) => Dot16Layout(group, c, y, vnni: false, scaled: false);
    private static void Dot16LayoutVnniScaled(byte* group, GemvContext* c, float* y) => Dot16Layout(group, c, y, vnni: true, scaled: true);
    private static void Dot16LayoutAvx2Scaled(byte* group, GemvContext* c, float* y) => Dot16Layout(group, c, y, vnni: false, scaled: true);

    /// <summary>Two eight-row groups in one pass over x; when the scaled reads met an Inf or a NaN scale (which they
    /// would take for finite numbers), both are done again with the exact conversion.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot16Layout(byte* group, GemvContext* c, float* y, bool vnni, bool scaled)
    {
        if (!Rows16(group, c, y, vnni, scaled)) Rows16(group, c, y, vnni, scaled: false);
    }

    private static readonly Vector256<byte> LowNibbles = Vector256.Create((byte)0x0f), HighNibbles = Vector256.Create((byte)0xf0);

    /// <summary>
    /// Sixteen rows, one per int32 lane of two registers: per block Σ q·x̂ − 8·Σ x̂ exactly in integers, then
    /// y += (d_w·d_x)·Σ in floats — the scalar reference's operations in its order. Returns false (and writes nothing)
    /// when <paramref name="scaled"/> met an Inf or NaN scale.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool Rows16(byte* group, GemvContext* c, float* y, bool vnni, bool scaled)
    {
        int nb = c->Cols / 32;
        long half = 8 * c->RowBytes;
        byte* g0 = group, g1 = group + half;
        byte* s0 = g0 + 128L * nb, s1 = g1 + 128L * nb;
        // The groups this thread reads next: sixteen rows on.
        long ahead = c->Ahead == 0 ? 0 : 2 * half;
        int* bias = c->BlockBias;
        Vector256<float> acc0 = default, acc1 = default;
        var top = Vector256<int>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* p0 = g0 + 128L * b, p1 = g1 + 128L * b;
            KernelPrefetch.Line(p0 + ahead);
            KernelPrefetch.Line(p0 + ahead + 64);
            KernelPrefetch.Line(p1 + ahead);
            KernelPrefetch.Line(p1 + ahead + 64);
            if ((b & 3) == 0) { KernelPrefetch.Line(s0 + 16 * b + ahead); KernelPrefetch.Line(s1 + 16 * b + ahead); }
            int* x = (int*)(c->Act.Q + 32 * b);
            Vector256<int> sum0, sum1;
            if (vnni) Sums2Vnni(p0, p1, x, bias[b], out sum0, out sum1);
            else Sums2Avx2(p0, p1, x, bias[b], out sum0, out sum1);
            var h0 = Avx2.ConvertToVector256Int32((short*)(s0 + 16 * b)); // sign-extended
            var h1 = Avx2.ConvertToVector256Int32((short*)(s1 + 16 * b));
            Vector256<float> d0, d1;
            if (scaled)
            {
                top = Avx2.Max(top, Avx2.Max(h0 & Vector256.Create(0x7fff), h1 & Vector256.Create(0x7fff)));
                var dx = Vector256.Create(c->XScaled[b]);
                d0 = HalfConvert.Scaled(h0) * dx; // 2^-112·h_w times 2^112·d_x
                d1 = HalfConvert.Scaled(h1) * dx;
            }
            else
            {
                var dx = Vector256.Create(c->Act.D[b]);
                d0 = HalfConvert.ToFloat(h0.AsUInt32()) * dx;
                d1 = HalfConvert.ToFloat(h1.AsUInt32()) * dx;
            }
            acc0 += d0 * Avx.ConvertToVector256Single(sum0);
            acc1 += d1 * Avx.ConvertToVector256Single(sum1);
        }
        if (scaled && Vector256.GreaterThanOrEqualAny(top, Vector256.Create(0x7c00))) return false;
        acc0.Store(y);
        acc1.Store(y + 8);
        return true;
    }

    /// <summary>Σ q·x̂ + bias per row (lane) for one block of two eight-row groups, with <c>vpdpbusd</c>: the low nibbles
    /// as they are, the high ones masked in place (16 q, so those sums are 16 times too large and exact; an arithmetic
    /// shift divides them). x's four codes are broadcast once for both groups.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums2Vnni(byte* p0, byte* p1, int* x, int bias, out Vector256<int> sum0, out Vector256<int> sum1)
    {
        Vector256<int> lo0 = Vector256.Create(bias), lo1 = lo0, hi0 = default, hi1 = default;
        for (int m = 0; m < 4; m++)
        {
            var xl = Avx2.BroadcastScalarToVector256(x + m).AsSByte();
            var xh = Avx2.BroadcastScalarToVector256(x + 4 + m).AsSByte();
            var a = Avx.LoadVector256(p0 + 32 * m);
            var b = Avx.LoadVector256(p1 + 32 * m);
            lo0 = AvxVnni.MultiplyWideningAndAdd(lo0, Avx2.And(a, LowNibbles), xl);
            hi0 = AvxVnni.MultiplyWideningAndAdd(hi0, Avx2.And(a, HighNibbles), xh);
            lo1 = AvxVnni.MultiplyWideningAndAdd(lo1, Avx2.And(b, LowNibbles), xl);
            hi1 = AvxVnni.MultiplyWideningAndAdd(hi1, Avx2.And(b, HighNibbles), xh);
        }
        sum0 = lo0 + Avx2.ShiftRightArithmetic(hi0, 4);
        sum1 = lo1 + Avx2.ShiftRightArithmetic(hi1, 4);
    }

    /// <summary><see cref="Sums2Vnni"/> with <c>vpmaddubsw</c> and <c>vpmaddwd</c> (15·127·2 fits a 16-bit pair sum; 16 q
    /// would not, so the high nibbles are shifted down).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Sums2Avx2(byte* p0, byte* p1, int* x, int bias, out Vector256<int> sum0, out Vector256<int> sum1)
    {
        Vector256<int> acc0 = Vector256.Create(bias), acc1 = acc0;
        for (int m = 0; m < 4; m++)
        {
            var xl = Avx2.BroadcastScalarToVector256(x + m).AsSByte();
            var xh = Avx2.BroadcastScalarToVector256(x + 4 + m).AsSByte();
            var a = Avx.LoadVector256(p0 + 32 * m);
            var b = Avx.LoadVector256(p1 + 32 * m);
            acc0 += IntDot.MulSumU8I8(Avx2.And(a, LowNibbles), xl);
            acc0 += IntDot.MulSumU8I8(Avx2.And(Avx2.ShiftRightLogical(a.AsUInt16(), 4).AsByte(), LowNibbles), xh);
            acc1 += IntDot.MulSumU8I8(Avx2.And(b, LowNibbles), xl);
            acc1 += IntDot.MulSumU8I8(Avx2.And(Avx2.ShiftRightLogical(b.AsUInt16(), 4).AsByte(), LowNibbles), xh);
        }
        sum0 = acc0;
        sum1 = acc1;
    }
}
