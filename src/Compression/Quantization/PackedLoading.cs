// PackedLoading: the loader hooks that keep stored weights packed — quantized and 16-bit weights are run by the
// format's own kernel instead of being expanded to the activation dtype.
using Compression.Checkpoints;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization;

public static class PackedLoading
{
    /// <summary>
    /// On CPU with float32 activations: every weight not stored as float32 stays packed in its stored format; float32
    /// weights load as ordinary tensors. Off CPU (or with 16-bit activations) the packed kernels do not apply and
    /// everything loads dense. With <paramref name="map"/> (the default) packed weights are read in place from the
    /// memory-mapped file wherever their alignment allows: loading copies nothing, and the weights live in the page
    /// cache (shared, reclaimable) instead of anonymous memory.
    /// </summary>
    public static (Func<StoredTensor, LinearLayer?>? Linear, Func<StoredTensor, TokenEmbedding?>? Embedding) Hooks(Device device, ScalarType dtype, bool map)
    {
        if (device.type != TorchSharp.DeviceType.CPU || dtype != ScalarType.Float32) return (null, null);
        return (stored => stored.Format == FormatRegistry.F32 ? null : PackedLinear.FromStored(stored, map),
                stored => stored.Format == FormatRegistry.F32 ? null : PackedEmbedding.FromStored(stored, map));
    }

    /// <summary><see cref="Hooks(Device, ScalarType, bool)"/>, reading weights in place.</summary>
    public static (Func<StoredTensor, LinearLayer?>? Linear, Func<StoredTensor, TokenEmbedding?>? Embedding) Hooks(Device device, ScalarType dtype) =>
        Hooks(device, dtype, map: true);
}
