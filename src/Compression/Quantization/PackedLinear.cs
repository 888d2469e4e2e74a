// PackedLinear: the quantized linear layer — W stays packed in native memory and forward runs the format's kernels.
using Compression.Checkpoints;
using Compression.Model;
using TorchSharp;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>
/// y = x·Wᵀ with W packed in <see cref="Format"/>. One activation row (decode) runs the format's GEMV;
/// several rows (prefill) run its tiled GEMM. x must be float32 on the CPU.
/// </summary>
public sealed unsafe class PackedLinear : LinearLayer
{
    private readonly PackedWeight _weight;
    private bool _disposed;

    /// <summary>Takes over the (only) reference to <paramref name="weight"/>.</summary>
    internal PackedLinear(PackedWeight weight)
        : base(nameof(PackedLinear), weight.Cols, weight.Rows) => _weight = weight;

    /// <summary>Quantizes a float (Out, In) weight into <paramref name="format"/>.</summary>
    public PackedLinear(Tensor weight, TensorFormat format) : this(PackedWeight.Quantize(weight, format)) { }

    /// <summary>Wraps packed bytes of an (outFeatures, inFeatures) matrix (copied).</summary>
    public static PackedLinear FromPacked(ReadOnlySpan<byte> packed, TensorFormat format, int outFeatures, int inFeatures) =>
        new(PackedWeight.FromBytes(packed, format, outFeatures, inFeatures));

    /// <summary>Loads a checkpoint tensor as it is stored (no float copy; read in place from the mapped file where it can be).</summary>
    public static PackedLinear FromStored(StoredTensor tensor, bool map = true) => new(PackedWeight.FromStored(tensor, map));

    /// <summary>A second layer over the same packed memory (tied heads, copies that keep a layer as it is); takes a reference.</summary>
    internal static PackedLinear Share(PackedWeight weight)
    {
        weight.AddRef();
        return new PackedLinear(weight);
    }

    public TensorFormat Format => _weight.Format;
    public override string FormatName => _weight.Format.Name;
    public override long WeightBytes => _weight.ByteLength;
    /// <summary>The packed matrix.</summary>
    public PackedWeight Weight => _weight;

    /// <param name="x">(…, In) float32</param>
    /// <returns>(…, Out) float32</returns>
    public override Tensor forward(Tensor x)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Observe(x);
        if (x.dtype != ScalarType.Float32 || x.device_type != DeviceType.CPU)
            throw new ArgumentException($"PackedLinear ({FormatName}): x must be float32 on the CPU, got {x.dtype} on {x.device_type}");
        if (x.shape[^1] != InFeatures)
            throw new ArgumentException($"PackedLinear ({FormatName}): x has {x.shape[^1]} features, the layer takes {InFeatures}");
        using var scope = NewDisposeScope();
        var xc = x.contiguous();
        long n = xc.numel() / InFeatures;
        long[] outShape = [.. x.shape[..^1], OutFeatures];
        var y = empty(outShape, ScalarType.Float32);
        Multiply((float*)TensorPointer.Of(xc), checked((int)n), (float*)TensorPointer.Of(y));
        return y.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// y (n, Out) = x (n, In)·Wᵀ on raw buffers; splits W into row ranges below 2 GiB for the span-based kernels.
    /// A weight whose rows are stored permuted (<see cref="PackedWeight.StoredRowOrder"/>) is multiplied in stored
    /// order and its outputs put back in model order — an Out-sized gather, instead of a reordered copy of W.
    /// </summary>
    public void Multiply(float* x, int n, float* y)
    {
        var order = _weight.StoredRowOrder;
        if (order is null)
        {
            MultiplyStored(x, n, y);
            return;
        }
        int rows = _weight.Rows;
        var stored = System.Buffers.ArrayPool<float>.Shared.Rent(checked(n * rows));
        try
        {
            fixed (float* ys = stored) MultiplyStored(x, n, ys);
            for (int i = 0; i < n; i++)
            {
                var src = stored.AsSpan(i * rows, rows);
                var dst = new Span<float>(y + (long)i * rows, rows);
                for (int r = 0; r < rows; r++) dst[r] = src[order[r]];
            }
        }
        finally { System.Buffers.ArrayPool<float>.Shared.Return(stored); }
    }

    /// <summary>y = x·Wᵀ with the rows of W (and so the columns of y) in stored order.</summary>
    private void MultiplyStored(float* x, int n, float* y)
    {
        int rows = _weight.Rows, cols = _weight.Cols;
        var xs = new ReadOnlySpan<float>(x, checked(n * cols));
        int maxRows = (int)Math.Min(rows, int.MaxValue / _weight.RowBytes);
        if (maxRows == rows)
        {
            var ys = new Span<float>(y, checked(n * rows));
            byte* layout = n == 1 && Kernels.DecodeLayout.Enabled ? _weight.DecodeLayout() : null;
            if (layout != null) Format.Gemv(_weight.RowSpan(0, rows), layout, rows, cols, xs, ys);
            else if (n == 1) Format.Gemv(_weight.RowSpan(0, rows), rows, cols, xs, ys);
            else Format.Gemm(_weight.RowSpan(0, rows), rows, cols, xs, n, ys);
            return;
        }
        var tmp = new float[(long)n * maxRows];
        for (int r0 = 0; r0 < rows; r0 += maxRows)
        {
            int m = Math.Min(maxRows, rows - r0);
            var part = tmp.AsSpan(0, n * m);
            if (n == 1) Format.Gemv(_weight.RowSpan(r0, m), m, cols, xs, part);
            else Format.Gemm(_weight.RowSpan(r0, m), m, cols, xs, n, part);
            for (int i = 0; i < n; i++) part.Slice(i * m, m).CopyTo(new Span<float>(y + (long)i * rows + r0, m));
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (!_disposed)
        {
            _disposed = true;
            _weight.Release();
        }
        base.Dispose(disposing);
    }
}
