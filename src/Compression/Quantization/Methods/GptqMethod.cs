// GptqMethod: GPTQ as a method of the registry — the layer's second moments from calibration drive Gptq.Quantize.
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>GPTQ (Frantar et al. 2022) into any format with a block codec: group-wise int4/int3/int2, block-wise q8_0/q4_0/q1_0.</summary>
public sealed class GptqMethod(GptqOptions options, string name = "gptq") : QuantizationMethod
{
    public static readonly GptqMethod Default = new(new GptqOptions());
    public GptqOptions Options { get; } = options;
    public override string Name => name;
    public override string Description => $"GPTQ: error feedback through the inverse Hessian (damp {Options.Damp}, act-order {(Options.ActOrder ? "on" : "off")})";

    public override PackedWeight Quantize(Tensor weight, TensorFormat format, InputStatistics? inputs)
    {
        Check(format);
        if (inputs is null) throw new ArgumentException($"{Name}: needs calibration statistics");
        int rows = (int)weight.shape[0], cols = (int)weight.shape[1];
        var packed = Gptq.Quantize(Floats(weight), rows, cols, inputs.SecondMoments(), format, Options);
        return PackedWeight.FromBytes(packed, format, rows, cols);
    }
}
