// GptqCodec: GPTQ checkpoints' group rule (fp16 scale, integer zero point) as fit + code, so the calibrated GPTQ method
// compensates errors against exactly the grid an HF GPTQ checkpoint stores.
using Compression.Quantization.Formats;

namespace Compression.Quantization.Methods.Codecs;

/// <summary>
/// <see cref="GptqRtn"/>'s rule opened up: <see cref="BlockParams.Scale"/> is the stored fp16 scale,
/// <see cref="BlockParams.Offset"/> the integer zero point (as a float), and a value is scale·(q − zero). Codes are
/// computed with the stored scale, as the reference GPTQ's <c>quantize</c> does with its own, so what the method's error
/// feedback sees is what <see cref="GptqFormat"/> and the checkpoint dequantize to — no re-rounding at export.
/// </summary>
public sealed class GptqCodec(GptqFormat format) : BlockCodec
{
    public override int BlockSize => format.GroupSize;

    public override BlockParams Fit(ReadOnlySpan<float> x, float clip)
    {
        var (scale, zero) = GptqRtn.Fit(x, format.Bits, format.Symmetric, clip);
        return new BlockParams((float)scale, zero, 0f);
    }

    public override int Code(float x, in BlockParams p) => GptqRtn.Code(x, p.Scale, (int)p.Offset, format.Bits);

    public override float Value(int code, in BlockParams p) => GptqRtn.Dequantize((byte)code, (Half)p.Scale, (byte)p.Offset);

    public override void Write(in BlockParams p, ReadOnlySpan<int> codes, Span<byte> block)
    {
        Span<byte> q = stackalloc byte[codes.Length];
        for (int j = 0; j < q.Length; j++) q[j] = (byte)codes[j];
        format.Pack(q, (Half)p.Scale, (byte)p.Offset, block);
    }
}
