// int4 (group 32/64/128): asymmetric group-wise 4-bit with a bf16 scale and zero per group (gpt-fast/torchao style).
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Compression.Kernels;

namespace Compression.Quantization.Formats;

/// <summary>One int4 group of 128: bf16 scale, bf16 zero, 64 bytes of codes (element j low nibble of qs[j], j+64 high).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockInt4G128 { public ushort Scale; public ushort Zero; public fixed byte Qs[64]; }

/// <summary>One int4 group of 64 (codes j and j+32 share byte j).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockInt4G64 { public ushort Scale; public ushort Zero; public fixed byte Qs[32]; }

/// <summary>One int4 group of 32 (codes j and j+16 share byte j, as Q4_0).</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockInt4G32 { public ushort Scale; public ushort Zero; public fixed byte Qs[16]; }

/// <summary>
/// gpt-fast's <c>group_quantize_tensor</c>: per group <c>scale = max(max − min, 1e-6)/15</c>,
/// <c>zero = min + 8·scale</c>, both stored as bf16; codes <c>q = clamp(round_half_even((x − (zero − 8·scale))/scale), 0, 15)</c>
/// computed with the stored (rounded) scale and zero; <c>w = (q − 8)·scale + zero</c>. The 1e-6 floor
/// keeps a constant group finite (its codes land on 8 and it dequantizes to ≈ the constant).
/// Block = [scale, zero, G/2 bytes of codes]: element j in the low nibble of byte j, j+G/2 in the high one.
/// </summary>
public sealed unsafe class Int4Format(int groupSize) : TensorFormat
{
    public static readonly Int4Format G128 = new(128);
    public static readonly Int4Format G64 = new(64);
    public static readonly Int4Format G32 = new(32);
    public const float RangeFloor = 1e-6f;

    public int GroupSize { get; } = groupSize is 32 or 64 or 128 ? groupSize
        : throw new ArgumentException($"int4: group size {groupSize} is not 32, 64 or 128");

    public override string Name => GroupSize == 128 ? "int4" : $"int4_g{GroupSize}";
    public override int BlockSize => GroupSize;
    public override Methods.Codecs.BlockCodec Codec => _codec ??= new(4, GroupSize, Methods.Codecs.IntGroupCodec.PackNibbles);
    private Methods.Codecs.IntGroupCodec? _codec;
    public override int BytesPerBlock => 4 + GroupSize / 2;
    public override int NominalBits => 4;
    public override string Description => $"int4 asymmetric, group {GroupSize}, bf16 scale and zero ({4 + 32.0 / GroupSize} bpw)";

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        int g = GroupSize, half = g / 2;
        for (int b = 0; b < src.Length / g; b++)
        {
            var x = src.Slice(b * g, g);
            var blk = dst.Slice(b * BytesPerBlock, BytesPerBlock);
            float mx = x[0], mn = x[0];
            for (int j = 1; j < g; j++) { mx = MathF.Max(mx, x[j]); mn = MathF.Min(mn, x[j]); }
            (float s, float z) = StoreParams(mx, mn, blk);
            float lo = z - s * 8f;
            for (int j = 0; j < half; j++)
                blk[4 + j] = (byte)(Code(x[j], lo, s) | (Code(x[j + half], lo, s) << 4));
        }
    }

    /// <summary>Computes scale and zero, stores them as bf16 and returns the stored (rounded) values.</summary>
    private static (float S, float Z) StoreParams(float mx, float mn, Span<byte> blk)
    {
        float scale = MathF.Max(mx - mn, RangeFloor) / 15f;
        float zero = mn + scale * 8f;
        ushort sb = BF16Format.FromFloat(scale), zb = BF16Format.FromFloat(zero);
        MemoryMarshal.Write(blk, sb);
        MemoryMarshal.Write(blk[2..], zb);
        return (BF16Format.ToFloat(sb), BF16Format.ToFloat(zb));
    }

    private static int Code(float x, float lo, float s) => (int)Math.Clamp(MathF.Round((x - lo) / s, MidpointRounding.ToEven), 0f, 15f);

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int g = GroupSize, half = g / 2;
        for (int b = 0; b < dst.Length / g; b++)
        {
            var blk = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float s = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk));
            float z = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk[2..]));
            for (int j = 0; j < half; j++)
            {
                dst[b * g + j] = ((blk[4 + j] & 0x0f) - 8) * s + z;
                dst[b * g + j + half] = ((blk[4 + j] >> 4) - 8) * s + z;
            }
        }
    }

    public override void QuantizeRow(ReadOnlySpan<float> src, Span<byte> dst)
    {
        if (!Avx2.IsSupported) { QuantizeRowReference(src, dst); return; }
        CheckRow(src.Length, dst.Length);
        int g = GroupSize, half = g / 2;
        fixed (float* px = src)
        fixed (byte* py = dst)
        {
            for (int b = 0; b < src.Length / g; b++)
            {
                float* x = px + b * g;
                byte* blk = py + b * BytesPerBlock;
                var vmax = Avx.LoadVector256(x);
                var vmin = vmax;
                for (int j = 8; j < g; j += 8) { var v = Avx.LoadVector256(x + j); vmax = Avx.Max(vmax, v); vmin = Avx.Min(vmin, v); }
                float mx = vmax[0], mn = vmin[0];
                for (int k = 1; k < 8; k++) { mx = MathF.Max(mx, vmax[k]); mn = MathF.Min(mn, vmin[k]); }
                (float s, float z) = StoreParams(mx, mn, new Span<byte>(blk, 4));
                var vlo = Vector256.Create(z - s * 8f);
                var vs = Vector256.Create(s);
                var zero = Vector256<float>.Zero;
                var fifteen = Vector256.Create(15f);
                for (int j = 0; j < half; j += 8)
                {
                    var a = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Divide(Avx.Subtract(Avx.LoadVector256(x + j), vlo), vs)), zero), fifteen));
                    var c = Avx.ConvertToVector256Int32(Avx.Min(Avx.Max(Avx.RoundToNearestInteger(Avx.Divide(Avx.Subtract(Avx.LoadVector256(x + j + half), vlo), vs)), zero), fifteen));
                    var packed = Avx2.Or(a, Avx2.ShiftLeftLogical(c, 4));
                    var p16 = Sse2.PackSignedSaturate(packed.GetLower(), packed.GetUpper());
                    Sse2.StoreScalar((long*)(blk + 4 + j), Sse2.PackUnsignedSaturate(p16, p16).AsInt64());
                }
            }
        }
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst)
    {
        if (!Avx2.IsSupported) { DequantizeRowReference(src, dst); return; }
        CheckRow(dst.Length, src.Length);
        int g = GroupSize, half = g / 2;
        fixed (byte* ps = src)
        fixed (float* pd = dst)
        {
            var mask = Vector256.Create(0x0f);
            var eight = Vector256.Create(8);
            for (int b = 0; b < dst.Length / g; b++)
            {
                byte* blk = ps + b * BytesPerBlock;
                var s = Vector256.Create(BF16Format.ToFloat(*(ushort*)blk));
                var z = Vector256.Create(BF16Format.ToFloat(*(ushort*)(blk + 2)));
                float* y = pd + b * g;
                for (int j = 0; j < half; j += 8)
                {
                    var q = Avx2.ConvertToVector256Int32(blk + 4 + j);
                    var lo = Avx.ConvertToVector256Single(Avx2.Subtract(Avx2.And(q, mask), eight));
                    var hi = Avx.ConvertToVector256Single(Avx2.Subtract(Avx2.ShiftRightLogical(q, 4), eight));
                    Avx.Store(y + j, Avx.Add(Avx.Multiply(lo, s), z));
                    Avx.Store(y + j + half, Avx.Add(Avx.Multiply(hi, s), z));
                }
            }
        }
    }

    private void CheckRow(int cols, int bytes)
    {
        if (cols % GroupSize != 0 || bytes < RowBytes(cols))
            throw new ArgumentException($"{Name}: row of {cols} values needs a multiple of {GroupSize} and does not fit {bytes} bytes");
    }

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        Int4Kernels.Gemv(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
