// TQ2_0Kernels: decode GEMV for tq2_0 — 2-bit codes shifted out of the packed bytes in registers, times Q8_K activations.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Quantization;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// y[r] = Σ_blocks d_w·d_x·Σ_256 (q−1)·q_x with Q8_K activations (see <see cref="TernaryDot"/>). Group g = 4c + l of a block is bit pair l of the 32
/// bytes qs[32c..32c+31], byte m holding weight m of the group — one shift and mask per group, no shuffles.
/// </summary>
public static unsafe class TQ2_0Kernels
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

    /// <summary>Codes of the four groups held by 32 packed bytes (bit pairs 0, 2, 4, 6).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Unpack(byte* qs, out Vector256<byte> k0, out Vector256<byte> k1, out Vector256<byte> k2, out Vector256<byte> k3)
    {
        var three = Vector256.Create((byte)3);
        var q = Avx.LoadVector256(qs).AsUInt16();
        k0 = Avx2.And(q.AsByte(), three);
        k1 = Avx2.And(Avx2.ShiftRightLogical(q, 2).AsByte(), three);
        k2 = Avx2.And(Avx2.ShiftRightLogical(q, 4).AsByte(), three);
        k3 = Avx2.And(Avx2.ShiftRightLogical(q, 6).AsByte(), three);
    }

    internal static float DotAvx2(byte* row, GemvContext* c)
    {
        int nb = c->Cols / TernaryFormat.Block;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            var blk = (BlockTQ2_0*)(row + b * BlockTQ2_0.Size);
            Unpack(blk->Qs, out var k0, out var k1, out var k2, out var k3);
            Unpack(blk->Qs + 32, out var k4, out var k5, out var k6, out var k7);
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
            var blk = (BlockTQ2_0*)(row + b * BlockTQ2_0.Size);
            Unpack(blk->Qs, out var k0, out var k1, out var k2, out var k3);
            Unpack(blk->Qs + 32, out var k4, out var k5, out var k6, out var k7);
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
            var blk = (BlockTQ2_0*)(row + b * BlockTQ2_0.Size);
            for (int e = 0; e < TernaryFormat.Block; e++)
                w[e] = (sbyte)(((blk->Qs[e / 128 * 32 + e % 32] >> (2 * (e % 128 / 32))) & 3) - 1);
            sum += TernaryDot.BlockScalar(c, b, HalfConvert.ToFloat(*(ushort*)&blk->D), w);
        }
        return sum;
    }
}
