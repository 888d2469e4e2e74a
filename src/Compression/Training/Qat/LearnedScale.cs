// LearnedScale: fake quantization with a trainable scale per block (LSQ, Esser et al. 2019) — codes by the format's own rule
// under the learned fp16 scale, the scale's gradient LSQ's — and the row encoder that writes those very blocks to a file.
using Compression.Quantization;
using Compression.Quantization.Methods.Codecs;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Training.Qat;

/// <summary>
/// The learned-scale alternative to <see cref="FakeQuantizer"/>. Each block of a row has a float32 master scale s,
/// initialised to the format's own (the fp16 scale its reference quantizer stores); the forward stores it as fp16,
/// codes the block with the format's rule under that scale (<see cref="BlockCodec.FromScale"/>), packs it and runs the
/// format's dequantizer — so the value the forward sees is the block an export with the same scales writes, to the bit.
/// Gradients (LSQ): for a weight w with level q (value = q·s) and v = w/s,
/// ∂ŵ/∂s = g·(q − v) where −Q_N &lt; v &lt; Q_P and g·q where the code is clipped, with LSQ's gradient scale
/// g = 1/√(N·Q_P), N the block length; ∂ŵ/∂w = 1 inside the range and 0 outside it. Where the code does not depend on
/// the scale (q1_0: the sign) ŵ = s·q exactly, so ∂ŵ/∂s = g·q and ∂ŵ/∂w = 1 (straight through) for every weight.
/// </summary>
public static class LearnedScale
{
    /// <summary>Whether blocks of <paramref name="format"/> can carry a learned scale (a codec whose block is one scale).</summary>
    public static bool Supports(TensorFormat format) => format.Codec?.FromScale(1f) is not null;

    /// <summary>LSQ's gradient scale 1/√(N·Q_P) for the blocks of <paramref name="codec"/>.</summary>
    public static double GradientScale(BlockCodec codec) => 1.0 / Math.Sqrt((double)codec.BlockSize * codec.Levels.Positive);

    private static BlockCodec CodecOf(TensorFormat format) => Supports(format) ? format.Codec!
        : throw new NotSupportedException($"{format.Name}: its blocks are not a single scale, so a learned scale cannot be stored; use the format's own scale");

    /// <summary>(Rows, Cols/Block) float32: each block's scale as the format's reference quantizer stores it.</summary>
    /// <param name="weight">(Rows, Cols) float32 on the CPU.</param>
    public static Tensor Initial(Tensor weight, TensorFormat format)
    {
        var codec = CodecOf(format);
        var (rows, cols) = Shape(weight, format);
        int blocks = cols / codec.BlockSize;
        var w = weight.detach().contiguous().data<float>().ToArray();
        var scales = new float[rows * blocks];
        for (int r = 0; r < rows; r++)
            for (int b = 0; b < blocks; b++)
                scales[r * blocks + b] = codec.Fit(w.AsSpan(r * cols + b * codec.BlockSize, codec.BlockSize)).Scale;
        return tensor(scales, [rows, blocks]);
    }

    /// <summary>
    /// Packs one row with given block scales: each block coded by the format's rule under its scale (rounded to fp16) and
    /// written in the format's layout — the block the learned-scale forward dequantizes and the export writes.
    /// </summary>
    /// <param name="codes">Scratch of at least one block of codes (filled with the last block's).</param>
    public static void EncodeRow(BlockCodec codec, ReadOnlySpan<float> src, ReadOnlySpan<float> scales, Span<byte> dst, Span<int> codes)
    {
        int n = codec.BlockSize, blocks = src.Length / n, bytes = dst.Length / Math.Max(1, blocks);
        if (src.Length % n != 0 || scales.Length != blocks || dst.Length != blocks * bytes)
            throw new ArgumentException($"a row of {src.Length} weights with {scales.Length} scales does not fit blocks of {n} in {dst.Length} bytes");
        for (int b = 0; b < blocks; b++)
        {
            var p = codec.FromScale(scales[b])!.Value;
            var x = src.Slice(b * n, n);
            for (int j = 0; j < n; j++) codes[j] = codec.Code(x[j], p);
            codec.Write(p, codes[..n], dst.Slice(b * bytes, bytes));
        }
    }

    /// <summary>
    /// ŵ with LSQ's gradients: <c>Q + (w − w.detach())·m + (s − s.detach())·G</c>, where Q is the dequantized packed
    /// weight, m the in-range mask and G = ∂ŵ/∂s. Both added terms are exactly zero in value, so the forward is Q to the bit.
    /// </summary>
    /// <param name="weight">(Rows, Cols) float32 master weight.</param>
    /// <param name="scale">(Rows, Cols/Block) float32 master scales.</param>
    public static Tensor Apply(Tensor weight, Tensor scale, TensorFormat format)
    {
        using var scope = NewDisposeScope();
        var (values, scaleGradient, mask) = Project(weight, scale, format);
        long rows = weight.shape[0], blocks = scale.shape[1];
        var viaWeight = weight.sub(weight.detach()).mul(mask);
        var viaScale = scale.sub(scale.detach()).unsqueeze(-1).mul(scaleGradient.view(rows, blocks, -1)).view(rows, -1); // (Rows, Cols)
        return values.Plus(viaWeight).Plus(viaScale).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The dequantized packed weight Q, and per weight ∂ŵ/∂s (gradient scale included) and the in-range mask ∂ŵ/∂w,
    /// each (Rows, Cols) float32 without gradient.
    /// </summary>
    public static unsafe (Tensor Values, Tensor ScaleGradient, Tensor Mask) Project(Tensor weight, Tensor scale, TensorFormat format)
    {
        var codec = CodecOf(format);
        var (rows, cols) = Shape(weight, format);
        int n = codec.BlockSize, blocks = cols / n;
        if (scale.dim() != 2 || scale.shape[0] != rows || scale.shape[1] != blocks || scale.dtype != ScalarType.Float32)
            throw new ArgumentException($"{format.Name}: a ({rows}, {cols}) weight needs float32 scales of shape ({rows}, {blocks}), got ({string.Join(", ", scale.shape)}) {scale.dtype}");
        using var w = weight.detach().contiguous();
        using var s = scale.detach().contiguous();
        var values = empty([rows, cols], ScalarType.Float32);
        var gradient = empty([rows, cols], ScalarType.Float32);
        var mask = empty([rows, cols], ScalarType.Float32);
        nint pw = (nint)TensorPointer.Of(w), ps = (nint)TensorPointer.Of(s);
        nint pv = (nint)TensorPointer.Of(values), pg = (nint)TensorPointer.Of(gradient), pm = (nint)TensorPointer.Of(mask);
        int rowBytes = checked((int)format.RowBytes(cols));
        float g = (float)GradientScale(codec);
        var (qn, qp) = codec.Levels;
        bool free = codec.CodesIgnoreScale;
        var unit = new BlockParams(1f, 0f, 0f); // Value(code, unit) is the code's level: value = level·scale
        Parallel.For(0, rows, () => (new byte[rowBytes], new int[n]), (r, _, scratch) =>
        {
            var (packed, codes) = scratch;
            var x = new ReadOnlySpan<float>((float*)pw + (long)r * cols, cols);
            var scales = new ReadOnlySpan<float>((float*)ps + (long)r * blocks, blocks);
            var gr = new Span<float>((float*)pg + (long)r * cols, cols);
            var mr = new Span<float>((float*)pm + (long)r * cols, cols);
            for (int b = 0; b < blocks; b++)
            {
                var p = codec.FromScale(scales[b])!.Value;
                for (int j = b * n; j < (b + 1) * n; j++)
                {
                    float level = codec.Value(codec.Code(x[j], p), unit);
                    float v = p.Scale != 0 ? x[j] / p.Scale : 0f;
                    bool inside = free || p.Scale == 0 || (v > -qn && v < qp);
                    gr[j] = g * (free || !inside ? level : level - v);
                    mr[j] = inside ? 1f : 0f;
                }
            }
            EncodeRow(codec, x, scales, packed, codes);
            format.DequantizeRow(packed, new Span<float>((float*)pv + (long)r * cols, cols));
            return scratch;
        }, _ => { });
        return (values, gradient, mask);
    }

    private static (int Rows, int Cols) Shape(Tensor weight, TensorFormat format)
    {
        if (weight.dim() != 2 || weight.dtype != ScalarType.Float32 || weight.device_type != TorchSharp.DeviceType.CPU)
            throw new ArgumentException($"learned-scale fake quantization takes a 2-D float32 CPU weight, got {weight.dim()}-D {weight.dtype} on {weight.device_type}");
        int rows = checked((int)weight.shape[0]), cols = checked((int)weight.shape[1]);
        if (!format.Supports(cols))
            throw new ArgumentException($"{format.Name}: a row of {cols} weights cannot be stored (block size {format.BlockSize})");
        return (rows, cols);
    }
}
