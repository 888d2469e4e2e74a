// ImatrixMethod: importance-weighted rounding — each block's scale chosen to minimise Σ wⱼ(xⱼ − x̂ⱼ)², w = E[x²] per input.
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>
/// llama.cpp's imatrix idea: an input channel that carries large activations makes the error of its weight count for
/// more, so each block's parameters are searched (<see cref="Codecs.BlockCodec.FitWeighted"/>) against the weighted error
/// with wⱼ = the mean square of input j over the calibration set. Codes are then round-to-nearest under those parameters.
/// </summary>
public sealed class ImatrixMethod : QuantizationMethod
{
    public static readonly ImatrixMethod Instance = new();
    public override string Name => "imatrix";
    public override string Description => "importance-weighted rounding: per-block scale search weighted by E[x²] of each input";

    public override PackedWeight Quantize(Tensor weight, TensorFormat format, InputStatistics? inputs)
    {
        Check(format);
        if (inputs is null) throw new ArgumentException($"{Name}: needs calibration statistics");
        int rows = (int)weight.shape[0], cols = (int)weight.shape[1];
        return PackedWeight.FromBytes(Quantize(Floats(weight), rows, cols, inputs.MeanSquares(), format), format, rows, cols);
    }

    /// <summary>The packed bytes of a (rows × cols) weight with per-column importance <paramref name="importance"/>.</summary>
    public static byte[] Quantize(float[] w, int rows, int cols, float[] importance, TensorFormat format)
    {
        var codec = format.Codec ?? throw new NotSupportedException($"imatrix: format '{format.Name}' has no block codec");
        int g = codec.BlockSize, blocks = cols / g;
        var codes = new int[(long)rows * cols];
        var param = new Codecs.BlockParams[(long)rows * blocks];
        Parallel.For(0, rows, r =>
        {
            for (int b = 0; b < blocks; b++)
            {
                var x = new ReadOnlySpan<float>(w, r * cols + b * g, g);
                var p = codec.FitWeighted(x, importance.AsSpan(b * g, g));
                param[(long)r * blocks + b] = p;
                for (int j = 0; j < g; j++) codes[(long)r * cols + b * g + j] = codec.Code(x[j], p);
            }
        });
        return Gptq.Pack(codes, param, rows, cols, format, codec);
    }
}
