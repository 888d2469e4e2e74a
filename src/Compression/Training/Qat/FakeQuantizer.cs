// FakeQuantizer: quantize → dequantize a float weight through a registered format, with a straight-through estimator.
using Compression.Quantization;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// The training-time view of a packed format. <see cref="Project"/> runs the format's own quantizer and dequantizer
/// row by row (the same <see cref="TensorFormat.QuantizeRow"/> the GGUF exporter and <see cref="PackedWeight"/> use), so
/// the value the forward sees is bit for bit the weight a file of the format will hold. <see cref="Apply"/> adds the
/// straight-through estimator: the forward value is the projection, the gradient passes to the float master weight
/// unchanged. Works for every format in <see cref="FormatRegistry"/>, including ones added later.
/// </summary>
public static class FakeQuantizer
{
    /// <summary>
    /// w_q = Q(w) + (w − w.detach()). The second term is exactly zero in value (x − x = 0 for finite x), so the forward
    /// value is Q(w) to the bit — unlike <c>w + (Q(w) − w).detach()</c>, whose two roundings can move the last bit —
    /// and its derivative with respect to w is the identity: ∂L/∂w = ∂L/∂w_q (straight through).
    /// </summary>
    /// <param name="weight">(Rows, Cols) float32 master weight on the CPU; Cols a multiple of the format's block.</param>
    public static Tensor Apply(Tensor weight, TensorFormat format)
    {
        if (format == FormatRegistry.F32) return weight;
        using var scope = NewDisposeScope();
        var projected = Project(weight, format);
        var detached = weight.detach();
        return projected.Plus(weight.sub(detached)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// As <see cref="Apply(Tensor, TensorFormat)"/> with the format's own block scale, or with learned block scales
    /// (<see cref="LearnedScale.Apply"/>) when <paramref name="scale"/> is given.
    /// </summary>
    public static Tensor Apply(Tensor weight, TensorFormat format, Tensor? scale) =>
        scale is null ? Apply(weight, format) : LearnedScale.Apply(weight, scale, format);

    /// <summary>Q(w): the dequantized packed weight as a new float32 tensor of the same shape (no gradient).</summary>
    public static unsafe Tensor Project(Tensor weight, TensorFormat format)
    {
        if (weight.dim() != 2) throw new ArgumentException($"fake quantization takes a 2-D weight, got {weight.dim()}-D");
        if (weight.dtype != ScalarType.Float32 || weight.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"fake quantization runs the format's CPU quantizer on float32 weights; got {weight.dtype} on {weight.device_type}");
        int rows = checked((int)weight.shape[0]), cols = checked((int)weight.shape[1]);
        if (!format.Supports(cols))
            throw new ArgumentException($"{format.Name}: a row of {cols} weights cannot be stored (block size {format.BlockSize})");
        using var source = weight.detach().contiguous();
        var result = empty([rows, cols], ScalarType.Float32);
        nint src = (nint)TensorPointer.Of(source), dst = (nint)TensorPointer.Of(result);
        int rowBytes = checked((int)format.RowBytes(cols));
        Parallel.For(0, rows, () => new byte[rowBytes], (r, _, packed) =>
        {
            format.QuantizeRow(new ReadOnlySpan<float>((float*)src + (long)r * cols, cols), packed);
            format.DequantizeRow(packed, new Span<float>((float*)dst + (long)r * cols, cols));
            return packed;
        }, _ => { });
        return result;
    }
}
