// IntGroupCodec: the asymmetric group rule of int4 (and the int3/int2 formats): scale = range/(2ᵇ−1), zero = min + mid·scale.
using System.Runtime.InteropServices;
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>
/// gpt-fast's asymmetric group quantizer for b bits: <c>scale = max(max − min, 1e-6)/(2ᵇ−1)</c>,
/// <c>zero = min + mid·scale</c> (mid = 2ᵇ⁻¹), both bf16; <c>q = clamp(round_half_even((x − (zero − mid·scale))/scale), 0, 2ᵇ−1)</c>
/// with the stored values; <c>w = (q − mid)·scale + zero</c>. The byte layout of the codes is the format's
/// (<paramref name="pack"/>); the 4-byte header [scale, zero] is common to all of them.
/// </summary>
public sealed class IntGroupCodec(int bits, int groupSize, IntGroupCodec.Packer pack) : BlockCodec
{
    /// <summary>Writes a block's codes after its 4-byte header.</summary>
    public delegate void Packer(ReadOnlySpan<int> codes, Span<byte> payload);

    private readonly int _max = (1 << bits) - 1, _mid = 1 << (bits - 1);

    public override int BlockSize => groupSize;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        float mx = x[0], mn = x[0];
        for (int j = 1; j < x.Length; j++) { mx = MathF.Max(mx, x[j]); mn = MathF.Min(mn, x[j]); }
        if (clip != 1f) { mx *= clip; mn *= clip; }
        float scale = MathF.Max(mx - mn, Int4Format.RangeFloor) / _max;
        float zero = mn + scale * _mid;
        float s = BF16Format.ToFloat(BF16Format.FromFloat(scale)), z = BF16Format.ToFloat(BF16Format.FromFloat(zero));
        return new BlockParams(s, z, 0f);
    }

    public override int Code(float x, in BlockParams p)
    {
        float lo = p.Offset - p.Scale * _mid;
        return (int)Math.Clamp(MathF.Round((x - lo) / p.Scale, MidpointRounding.ToEven), 0f, _max);
    }

    public override float Value(int code, in BlockParams p) => (code - _mid) * p.Scale + p.Offset;

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block)
    {
        MemoryMarshal.Write(block, BF16Format.FromFloat(p.Scale));
        MemoryMarshal.Write(block[2..], BF16Format.FromFloat(p.Offset));
        pack(codes, block[4..]);
    }

    /// <summary>int4's layout: code j in the low nibble of byte j, code j + G/2 in the high nibble.</summary>
    public static void PackNibbles(ReadOnlySpan<int> codes, Span<byte> payload)
    {
        int half = codes.Length / 2;
        for (int j = 0; j < half; j++) payload[j] = (byte)(codes[j] | (codes[j + half] << 4));
    }
}
