// Q8_0Codec: q8_0's block rule (d = amax/127, q = round-half-away(x/d)) as fit + code.
using System.Runtime.InteropServices;
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>q8_0 as <see cref="Q8_0Format.QuantizeRowReference"/>: codes use the unrounded 1/d, values the fp16 d.</summary>
public sealed class Q8_0Codec : BlockCodec
{
    public static readonly Q8_0Codec Instance = new();
    public override int BlockSize => 32;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        float amax = 0;
        for (int j = 0; j < x.Length; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        float d = amax * clip / 127f;
        return new BlockParams((float)(Half)d, 0f, d != 0 ? 1f / d : 0f);
    }

    public override BlockParams? FromScale(float scale)
    {
        float d = StoredScale(scale);
        return new BlockParams(d, 0f, d != 0 ? 1f / d : 0f);
    }
    public override (int Negative, int Positive) Levels => (127, 127);

    public override int Code(float x, in BlockParams p) => (int)Math.Clamp(MathF.Round(x * p.Inverse, MidpointRounding.AwayFromZero), -127f, 127f);

    public override float Value(int code, in BlockParams p) => code * p.Scale;

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block)
    {
        MemoryMarshal.Write(block, (Half)p.Scale);
        for (int j = 0; j < 32; j++) block[2 + j] = (byte)(sbyte)codes[j];
    }
}
