// QuantizationMethod: how a weight is turned into codes of a format — the method axis beside the format axis.
using static TorchSharp.torch;

namespace Compression.Quantization.Methods;

/// <summary>
/// A weight quantizer applied to a <see cref="TensorFormat"/>: round-to-nearest, or a method that looks at the layer's
/// inputs (<see cref="InputStatistics"/>, gathered by calibration). Whatever the method, the result is an ordinary
/// packed tensor of the format — the same bytes layout, the same kernels, GGUF files llama.cpp reads unchanged.
/// Adding a method is a file and a row in <see cref="MethodRegistry"/>.
/// </summary>
public abstract class QuantizationMethod
{
    /// <summary>Short lower-case name used in specs, on the command line and in results ("rtn", "gptq").</summary>
    public abstract string Name { get; }

    /// <summary>One-line description for help text and reports.</summary>
    public abstract string Description { get; }

    /// <summary>Whether the method needs calibration statistics (false: it runs on the weights alone).</summary>
    public virtual bool NeedsCalibration => true;

    /// <summary>
    /// Whether the method changes the float model before quantizing (AWQ's scales, folded into norms and
    /// projections); such methods override <see cref="Transform"/>.
    /// </summary>
    public virtual bool TransformsModel => false;

    /// <summary>Whether the method can produce <paramref name="format"/> (calibrated methods need the format's block codec).</summary>
    public virtual bool Supports(TensorFormat format) => format.Codec is not null;

    /// <summary>
    /// Quantizes a float32 (Out, In) weight on the CPU into <paramref name="format"/>. <paramref name="inputs"/> are the
    /// statistics of the layer's inputs (null only for methods that do not need calibration).
    /// </summary>
    public abstract PackedWeight Quantize(Tensor weight, TensorFormat format, InputStatistics? inputs);

    /// <summary>
    /// For methods that <see cref="TransformsModel"/>: rewrites one block's float weights before its linears are quantized
    /// (an exact equivalence of the float model). The default does nothing.
    /// </summary>
    public virtual void Transform(BlockWeights block, BlockInputs inputs, TensorFormat format) { }

    /// <summary>Throws naming the method and the format when the method cannot produce it.</summary>
    public void Check(TensorFormat format)
    {
        if (!Supports(format))
            throw new NotSupportedException($"method '{Name}' cannot produce format '{format.Name}'; it supports: "
                + string.Join(", ", FormatRegistry.All.Where(Supports).Select(f => f.Name)));
    }

    public override string ToString() => Name;

    /// <summary>The float32 rows of a (Out, In) weight as one array.</summary>
    internal static float[] Floats(Tensor weight)
    {
        using var scope = NewDisposeScope();
        return weight.to(ScalarType.Float32).contiguous().data<float>().ToArray();
    }
}
