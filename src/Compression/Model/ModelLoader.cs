// ModelLoader: builds a LlamaModel from an opened checkpoint, tensor by tensor, without an FP32 copy of the model.
using Compression.Checkpoints;
using static TorchSharp.torch;

namespace Compression.Model;

/// <summary>How to load a checkpoint into a model.</summary>
public sealed record ModelLoadOptions
{
    public Device Device { get; init; } = CPU;
    /// <summary>Activation dtype; dense weights are converted to it.</summary>
    public ScalarType DType { get; init; } = ScalarType.Float32;
    /// <summary>
    /// Offered every linear weight first; returns a layer that keeps the weight in its stored (packed)
    /// form, or null to load it dense. Supplied by the quantization layer, so the model knows no formats.
    /// </summary>
    public Func<StoredTensor, LinearLayer?>? PackedLinear { get; init; }
    /// <summary>As <see cref="PackedLinear"/>, for the token embedding.</summary>
    public Func<StoredTensor, TokenEmbedding?>? PackedEmbedding { get; init; }
    public IProgress<(int Done, int Total, string Name)>? Progress { get; init; }
    /// <summary>Load tensors holding NaN or ±Inf instead of refusing them (for studying broken models).</summary>
    public bool AllowNonFinite { get; init; }
}

public static class ModelLoader
{
    /// <summary>
    /// Loads every tensor of <paramref name="checkpoint"/> into a model. Packed layers may read their bytes in place
    /// from the checkpoint's mapped files: those keep the mapping alive, so the checkpoint may be disposed afterwards.
    /// </summary>
    public static LlamaModel Load(Checkpoint checkpoint, ModelLoadOptions? options = null)
    {
        options ??= new ModelLoadOptions();
        NonFinite.Check(checkpoint, options.AllowNonFinite);
        return LlamaModel.Assemble(checkpoint.Config, new CheckpointParts(checkpoint, options), options.DType, options.Device);
    }

    /// <summary>Parts read from a checkpoint: packed where the options' hooks keep them packed, dense otherwise.</summary>
    private sealed class CheckpointParts(Checkpoint checkpoint, ModelLoadOptions options) : IModelParts
    {
        private readonly int _total = LlamaTensorLayout.Expected(checkpoint.Config).Count;
        private int _done;

        public TokenEmbedding Embedding(TensorSpec spec) =>
            Report(spec, options.PackedEmbedding?.Invoke(checkpoint[spec.Name]) ?? new DenseEmbedding(Dense(spec, options.DType)));

        public LinearLayer Linear(TensorSpec spec) =>
            Report(spec, options.PackedLinear?.Invoke(checkpoint[spec.Name]) ?? new DenseLinear(Dense(spec, options.DType)));

        public RmsNorm Norm(TensorSpec spec, double eps) => Report(spec, new RmsNorm(Dense(spec, ScalarType.Float32), eps));

        public DenseLinear Router(TensorSpec spec) => Report(spec, new DenseLinear(Dense(spec, ScalarType.Float32)));

        public IReadOnlyList<float>? RopeFactors => checkpoint.RopeFrequencyFactors;

        private Tensor Dense(TensorSpec spec, ScalarType dtype) => ToTensor(checkpoint[spec.Name], dtype, options.Device);

        private T Report<T>(TensorSpec spec, T part)
        {
            options.Progress?.Report((++_done, _total, spec.Name));
            return part;
        }
    }

    /// <summary>A stored float or quantized tensor as a dense tensor of <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static Tensor ToTensor(StoredTensor stored, ScalarType dtype, Device device)
    {
        var sameFloat = (stored.Format.Name, dtype) switch
        {
            ("f32", ScalarType.Float32) or ("bf16", ScalarType.BFloat16) or ("f16", ScalarType.Float16) => true,
            _ => false,
        };
        long bytes = stored.Elements * (sameFloat ? stored.Format.BytesPerBlock : 4);
        if (bytes > int.MaxValue)
            throw new NotSupportedException(
                $"{stored.Source.Path}: tensor '{stored.Name}' would take {bytes:N0} bytes as a dense {dtype} tensor; load it packed (the default on CPU) or in a 16-bit dtype");
        if (sameFloat)
        {
            var raw = empty(stored.Shape, dtype);
            stored.CopyTo(raw.bytes);
            return raw.to(device);
        }
        var f32 = empty(stored.Shape, ScalarType.Float32);
        var floats = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(f32.bytes);
        int cols = checked((int)stored.Cols);
        const int chunkRows = 256;
        for (long r = 0; r < stored.Rows; r += chunkRows)
        {
            int n = (int)Math.Min(chunkRows, stored.Rows - r);
            stored.ReadRows(r, n, floats.Slice(checked((int)(r * cols)), n * cols));
        }
        if (dtype == ScalarType.Float32 && device.type == TorchSharp.DeviceType.CPU) return f32;
        using (f32) return f32.to(dtype, device);
    }
}
