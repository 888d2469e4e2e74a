// int3 / int2 (group 64/128): asymmetric group-wise 3- and 2-bit codes with a bf16 scale and zero per group — the widths
// where round-to-nearest breaks and calibrated methods show their worth.
using System.Runtime.InteropServices;
using Compression.Kernels;
using Compression.Quantization.Methods.Codecs;

namespace Compression.Quantization.Formats;

/// <summary>
/// int4's rule at b = 3 or 2 bits: per group <c>scale = max(max − min, 1e-6)/(2ᵇ−1)</c>, <c>zero = min + mid·scale</c>
/// (mid = 2ᵇ⁻¹), both bf16; <c>q = clamp(round_half_even((x − (zero − mid·scale))/scale), 0, 2ᵇ−1)</c> with the stored
/// values; <c>w = (q − mid)·scale + zero</c>. Block = [scale, zero, codes] with the codes in bit planes so a kernel
/// unpacks 8 consecutive values with one shift and mask: a low plane of G/4 bytes — byte j holds the low two bits of
/// codes j, j+G/4, j+G/2, j+3G/4 at bits 0, 2, 4, 6 — and, for 3 bits, a high plane of G/8 bytes — bit k of byte j is
/// bit 2 of code j + k·G/8. Workbench-only (no GGUF type): evaluated in memory, like int4.
/// </summary>
public sealed class IntLowBitFormat : TensorFormat
{
    public static readonly IntLowBitFormat Int3G128 = new(3, 128), Int3G64 = new(3, 64), Int2G128 = new(2, 128), Int2G64 = new(2, 64);

    private readonly IntGroupCodec _codec;

    private IntLowBitFormat(int bits, int groupSize)
    {
        (Bits, GroupSize) = (bits, groupSize);
        _codec = new IntGroupCodec(bits, groupSize, Pack);
    }

    public int Bits { get; }
    public int GroupSize { get; }
    public override string Name => GroupSize == 128 ? $"int{Bits}" : $"int{Bits}_g{GroupSize}";
    public override int BlockSize => GroupSize;
    public override int BytesPerBlock => 4 + GroupSize * Bits / 8;
    public override int NominalBits => Bits;
    public override BlockCodec Codec => _codec;
    public override string Description => $"int{Bits} asymmetric, group {GroupSize}, bf16 scale and zero ({Bits + 32.0 / GroupSize} bpw)";

    /// <summary>Byte offset of the high plane inside a block (after the header and the low plane).</summary>
    internal int HighPlane => 4 + GroupSize / 4;

    public override void QuantizeRowReference(ReadOnlySpan<float> src, Span<byte> dst)
    {
        Span<int> codes = stackalloc int[GroupSize];
        for (int b = 0; b < src.Length / GroupSize; b++)
        {
            var x = src.Slice(b * GroupSize, GroupSize);
            var p = _codec.Fit(x);
            for (int j = 0; j < GroupSize; j++) codes[j] = _codec.Code(x[j], p);
            _codec.Write(p, codes, dst.Slice(b * BytesPerBlock, BytesPerBlock));
        }
    }

    /// <summary>Writes a group's codes into its bit planes (the payload after the 4-byte header).</summary>
    private void Pack(ReadOnlySpan<int> codes, Span<byte> payload)
    {
        int quarter = GroupSize / 4, eighth = GroupSize / 8;
        payload[..(quarter + (Bits == 3 ? eighth : 0))].Clear();
        for (int e = 0; e < GroupSize; e++)
        {
            payload[e % quarter] |= (byte)((codes[e] & 3) << (2 * (e / quarter)));
            if (Bits == 3) payload[quarter + e % eighth] |= (byte)(((codes[e] >> 2) & 1) << (e / eighth));
        }
    }

    /// <summary>Code of element e of a block (scalar reference of the bit-plane layout).</summary>
    internal static int CodeAt(ReadOnlySpan<byte> blk, int e, int groupSize, int bits)
    {
        int quarter = groupSize / 4, eighth = groupSize / 8;
        int q = (blk[4 + e % quarter] >> (2 * (e / quarter))) & 3;
        if (bits == 3) q |= ((blk[4 + quarter + e % eighth] >> (e / eighth)) & 1) << 2;
        return q;
    }

    public override void DequantizeRowReference(ReadOnlySpan<byte> src, Span<float> dst)
    {
        int g = GroupSize, mid = 1 << (Bits - 1);
        for (int b = 0; b < dst.Length / g; b++)
        {
            var blk = src.Slice(b * BytesPerBlock, BytesPerBlock);
            float s = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk));
            float z = BF16Format.ToFloat(MemoryMarshal.Read<ushort>(blk[2..]));
            for (int e = 0; e < g; e++) dst[b * g + e] = (CodeAt(blk, e, g, Bits) - mid) * s + z;
        }
    }

    public override void DequantizeRow(ReadOnlySpan<byte> src, Span<float> dst) => IntLowBitKernels.DequantizeRow(this, src, dst);

    public override void Gemv(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, Span<float> y) =>
        IntLowBitKernels.Gemv(this, packed, rows, cols, x, y);

    public override void Gemm(ReadOnlySpan<byte> packed, int rows, int cols, ReadOnlySpan<float> x, int n, Span<float> y) =>
        TiledGemm.Run(this, packed, rows, cols, x, n, y);
}
