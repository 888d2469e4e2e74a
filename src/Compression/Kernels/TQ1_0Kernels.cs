// TQ1_0Kernels: decode GEMV for tq1_0 — base-3 trits peeled off the packed bytes in registers, times Q8_K activations.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// y[r] = Σ_blocks d_w·d_x·Σ_256 (t−1)·q_x with Q8_K activations (see <see cref="TernaryDot"/>). Trit n of a byte q is ⌊3·t/256⌋ with t = q·3ⁿ mod 256,
/// i.e. [t ≥ 86] + [t ≥ 171]; t for n + 1 is 3t mod 256, two wrapping byte adds. Groups 0..4 are trits 0..4 of
/// qs[0..31]; group 5 is trits 0 and 1 of qs[32..47], group 6 trits 2 and 3, group 7 trit 4 of qs[32..47] then
/// the 16 trits of qh (trit n of qh[j] is weight 240 + 4n + j).
/// </summary>
public static unsafe class TQ1_0Kernels
{
    public static void Gemv(TensorFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.RunQ8K(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, Pick(KernelIsa.Current));

    /// <summary>The row-dot kernel for <paramref name="level"/>.</summary>
    internal static delegate*<byte*, GemvContext*, float> Pick(IsaLevel level) => level switch
    {
        IsaLevel.Avx512 => &DotAvx512,
        IsaLevel.Avx2 => &DotAvx2,
        _ => &DotScalar,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Times3(Vector256<byte> t) => Avx2.Add(Avx2.Add(t, t), t);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Times3(Vector128<byte> t) => Sse2.Add(Sse2.Add(t, t), t);

    /// <summary>The trit ⌊3t/256⌋ ∈ {0, 1, 2} of each byte t: [t ≥ 86] + [t ≥ 171] (unsigned compares via max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Trits(Vector256<byte> t)
    {
        var ge86 = Avx2.CompareEqual(Avx2.Max(t, Vector256.Create((byte)86)), t);
        var ge171 = Avx2.CompareEqual(Avx2.Max(t, Vector256.Create((byte)171)), t);
        return Avx2.Subtract(Avx2.Subtract(Vector256<byte>.Zero, ge86), ge171); // masks are 0xFF = −1
    }

    /// <summary>The codes of a block's 8 groups.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(BlockTQ1_0* blk, out Vector256<byte> k0, out Vector256<byte> k1, out Vector256<byte> k2, out Vector256<byte> k3,
        out Vector256<byte> k4, out Vector256<byte> k5, out Vector256<byte> k6, out Vector256<byte> k7)
    {
        var t = Avx.LoadVector256(blk->Qs);
        k0 = Trits(t);
        t = Times3(t); k1 = Trits(t);
        t = Times3(t); k2 = Trits(t);
        t = Times3(t); k3 = Trits(t);
        t = Times3(t); k4 = Trits(t);
        var s = Sse2.LoadVector128(blk->Qs + 32);
        var u = Vector256.Create(s, Times3(s));             // (·1 | ·3)
        k5 = Trits(u);
        u = Times3(Times3(u)); k6 = Trits(u);               // (·9 | ·27)
        u = Times3(Times3(u));                              // (·81 | ·243): the lower half is trit 4
        var h1 = Vector128.Create(*(uint*)blk->Qh).AsByte(); // byte 4n + j = qh[j]; lane n needs ·3ⁿ
        var h3 = Times3(h1);
        var h9 = Times3(h3);
        var h = Avx2.Blend(Avx2.Blend(Avx2.Blend(h1.AsInt32(), h3.AsInt32(), 0b0010), h9.AsInt32(), 0b0100), Times3(h9).AsInt32(), 0b1000);
        k7 = Trits(Vector256.Create(u.GetLower(), h.AsByte()));
    }

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / TernaryFormat.Block;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockTQ1_0*)(row + b * BlockTQ1_0.Size);
            Unpack(blk, out var k0, out var k1, out var k2, out var k3, out var k4, out var k5, out var k6, out var k7);
            sum += TernaryDot.Block(c, b, HalfConvert.ToFloat(*(ushort*)&blk->D), k0, k1, k2, k3, k4, k5, k6, k7);
        }
        return sum;
    }

    internal static float DotAvx512(byte* row, GemvContext* c)
    {
        int nb = c->Cols / TernaryFormat.Block;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockTQ1_0*)(row + b * BlockTQ1_0.Size);
            Unpack(blk, out var k0, out var k1, out var k2, out var k3, out var k4, out var k5, out var k6, out var k7);
            sum += TernaryDot.Block512(c, b, HalfConvert.ToFloat(*(ushort*)&blk->D), k0, k1, k2, k3, k4, k5, k6, k7);
        }
        return sum;
    }

    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int nb = c->Cols / TernaryFormat.Block;
        sbyte* w = stackalloc sbyte[TernaryFormat.Block];
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockTQ1_0*)(row + b * BlockTQ1_0.Size);
            for (int n = 0; n < 5; n++)
                for (int m = 0; m < 32; m++) w[32 * n + m] = (sbyte)(TQ1_0Format.TritOf(blk->Qs[m], n) - 1);
            for (int n = 0; n < 5; n++)
                for (int m = 0; m < 16; m++) w[160 + 16 * n + m] = (sbyte)(TQ1_0Format.TritOf(blk->Qs[32 + m], n) - 1);
            for (int n = 0; n < 4; n++)
                for (int j = 0; j < 4; j++) w[240 + 4 * n + j] = (sbyte)(TQ1_0Format.TritOf(blk->Qh[j], n) - 1);
            sum += TernaryDot.BlockScalar(c, b, HalfConvert.ToFloat(*(ushort*)&blk->D), w);
        }
        return sum;
    }
}
