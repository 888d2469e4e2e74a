// RtnMethod: round-to-nearest — each block fitted and coded on its own weights, the format's reference rule.
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>The format's own quantizer (llama-quantize's bytes for GGUF formats). Needs no calibration.</summary>
public sealed class RtnMethod : QuantizationMethod
{
    public static readonly RtnMethod Instance = new();
    public override string Name => "rtn";
    public override string Description => "round-to-nearest: the format's reference quantizer, no calibration";
    public override bool NeedsCalibration => false;
    public override bool Supports(TensorFormat format) => format.CanQuantize;
    public override PackedWeight Quantize(Tensor weight, TensorFormat format, InputStatistics? inputs) => PackedWeight.Quantize(weight, format);
}
