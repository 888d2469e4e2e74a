// Q4_0Codec: q4_0's block rule (d = m/−8 for the signed largest-magnitude m, q = trunc(x/d + 8.5)) as fit + code.
using System.Runtime.InteropServices;
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>q4_0 as <see cref="Q4_0Format.QuantizeRowReference"/>: codes use the unrounded 1/d, values the fp16 d.</summary>
public sealed class Q4_0Codec : BlockCodec
{
    public static readonly Q4_0Codec Instance = new();
    public override int BlockSize => 32;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < x.Length; j++)
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        float d = max * clip / -8f;
        return new BlockParams((float)(Half)d, 0f, d != 0 ? 1f / d : 0f);
    }

    /// <summary>The scale keeps its sign (the reference's d is negative when the block's largest magnitude is positive).</summary>
    public override BlockParams? FromScale(float scale)
    {
        float d = StoredScale(scale);
        return new BlockParams(d, 0f, d != 0 ? 1f / d : 0f);
    }
    public override (int Negative, int Positive) Levels => (8, 7);

    public override int Code(float x, in BlockParams p) => Math.Clamp((int)(x * p.Inverse + 8.5f), 0, 15);

    public override float Value(int code, in BlockParams p) => (code - 8) * p.Scale;

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block)
    {
        MemoryMarshal.Write(block, (Half)p.Scale);
        for (int j = 0; j < 16; j++) block[2 + j] = (byte)(codes[j] | (codes[j + 16] << 4));
    }
}
