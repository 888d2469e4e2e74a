// IntLowBitKernels: dequantize and decode GEMV for the bit-plane int3/int2 formats — a Vector256 path (8 codes per shift
// and mask) behind Vector256.IsHardwareAccelerated, and the scalar reference beside it.
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Compression.Quantization.Formats;

namespace Compression.Kernels;

/// <summary>
/// With w = q·s + (z − mid·s): y[r] = Σ_groups s·Σⱼ qⱼx̂ⱼ + (z − mid·s)·Σⱼ x̂ⱼ, with x̂ the activations quantized to Q8
/// blocks as every other packed GEMV here sees them (so decode and the other formats' kernels compare like with like);
/// the codes of 8 consecutive elements come from 8 consecutive plane bytes.
/// </summary>
public static unsafe class IntLowBitKernels
{
    public static void Gemv(IntLowBitFormat f, ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        GemvDriver.Run(f.Name, packed, rows, cols, f.RowBytes(cols), x, y, quantizeX: true, f.GroupSize * 8 + f.Bits,
            Vector256.IsHardwareAccelerated ? &DotVector : &DotScalar);

    /// <summary>Scalar reference of one row's dot product (Param = groupSize·8 + bits).</summary>
    internal static float DotScalar(byte* row, GemvContext* c)
    {
        int g = c->Param >> 3, bits = c->Param & 7, mid = 1 << (bits - 1), bytes = 4 + g * bits / 8;
        float total = 0;
        for (int b = 0; b < c->Cols / g; b++)
        {
            var blk = new ReadOnlySpan<byte>(row + (long)b * bytes, bytes);
            float s = HalfConvert.Bf16ToFloat(MemoryMarshal.Read<ushort>(blk)), z = HalfConvert.Bf16ToFloat(MemoryMarshal.Read<ushort>(blk[2..]));
            float qx = 0, sx = 0;
            for (int e = 0; e < g; e++)
            {
                int i = b * g + e;
                float x = c->Act.Q[i] * c->Act.D[i / 32];
                qx += IntLowBitFormat.CodeAt(blk, e, g, bits) * x;
                sx += x;
            }
            total += s * qx + (z - mid * s) * sx;
        }
        return total;
    }

    internal static float DotVector(byte* row, GemvContext* c)
    {
        int g = c->Param >> 3, bits = c->Param & 7, mid = 1 << (bits - 1), bytes = 4 + g * bits / 8;
        float total = 0;
        for (int b = 0; b < c->Cols / g; b++)
        {
            byte* blk = row + (long)b * bytes;
            float s = HalfConvert.Bf16ToFloat(*(ushort*)blk), z = HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2));
            var qx = Vector256<float>.Zero;
            var sx = Vector256<float>.Zero;
            for (int e = 0; e < g; e += 8)
            {
                int i = b * g + e;
                var xv = Vector256.ConvertToSingle(WidenSigned(c->Act.Q + i)) * c->Act.D[i / 32];
                qx += Vector256.ConvertToSingle(Codes(blk, e, g, bits)) * xv;
                sx += xv;
            }
            total += s * Vector256.Sum(qx) + (z - mid * s) * Vector256.Sum(sx);
        }
        return total;
    }

    /// <summary>The codes of elements e..e+7 of a block (e a multiple of 8).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Codes(byte* blk, int e, int g, int bits)
    {
        int quarter = g / 4, eighth = g / 8;
        var q = (Widen(blk + 4 + e % quarter) >>> (2 * (e / quarter))) & Vector256.Create(3);
        if (bits == 3) q |= ((Widen(blk + 4 + quarter + e % eighth) >>> (e / eighth)) & Vector256.Create(1)) << 2;
        return q;
    }

    /// <summary>8 bytes widened to 8 int lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Widen(byte* p)
    {
        var u16 = Vector128.WidenLower(Vector128.CreateScalar(*(ulong*)p).AsByte()); // (8) ushort
        return Vector256.Create(Vector128.WidenLower(u16), Vector128.WidenUpper(u16)).AsInt32();
    }

    /// <summary>8 signed bytes widened to 8 int lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> WidenSigned(sbyte* p)
    {
        var i16 = Vector128.WidenLower(Vector128.CreateScalar(*(long*)p).AsSByte()); // (8) short
        return Vector256.Create(Vector128.WidenLower(i16), Vector128.WidenUpper(i16));
    }

    /// <summary>One row dequantized; the vector path computes (q − mid)·s + z with the reference's two roundings.</summary>
    public static void DequantizeRow(IntLowBitFormat f, ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Vector256.IsHardwareAccelerated) { f.DequantizeRowReference(src, dst); return; }
        int g = f.GroupSize, bits = f.Bits, mid = 1 << (bits - 1), bytes = f.BytesPerBlock;
        if (dst.Length % g != 0 || src.Length < dst.Length / g * bytes)
            throw new ArgumentException($"{f.Name}: row of {dst.Length} values needs a multiple of {g} and {dst.Length / g * bytes} bytes");
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var vmid = Vector256.Create(mid);
            for (int b = 0; b < dst.Length / g; b++)
            {
                byte* blk = ps + (long)b * bytes;
                var s = Vector256.Create(HalfConvert.Bf16ToFloat(*(ushort*)blk));
                var z = Vector256.Create(HalfConvert.Bf16ToFloat(*(ushort*)(blk + 2)));
                for (int e = 0; e < g; e += 8)
                    (Vector256.ConvertToSingle(Codes(blk, e, g, bits) - vmid) * s + z).Store(pd + (long)b * g + e);
            }
        }
    }
}
