// PackedLoading: the loader hooks that keep stored weights packed — quantized and 16-bit weights are run by the
// format's own kernel instead of being expanded to the activation dtype.
using Compression.Checkpoints;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Quantization;

public static class PackedLoading
{
    /// <summary>
    /// On CPU: every linear weight that is not already float32 (or not the activation dtype) stays packed
    /// in its stored format; dense weights of the activation dtype load as ordinary tensors. Off CPU the
    /// packed kernels do not apply and everything loads dense.
    /// </summary>
    public static (Func<StoredTensor, LinearLayer?>? Linear, Func<StoredTensor, TokenEmbedding?>? Embedding) Hooks(Device device, ScalarType dtype)
    {
        if (device.type != TorchSharp.DeviceType.CPU || dtype != ScalarType.Float32) return (null, null);
        return (stored => stored.Format.IsFloat && stored.Format == FormatRegistry.F32 ? null : PackedLinear.FromStored(stored),
                stored => stored.Format == FormatRegistry.F32 ? null : PackedEmbedding.FromStored(stored));
    }
}
