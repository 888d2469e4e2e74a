// TensorPointer: the address of a CPU tensor's first element, for kernels that read TorchSharp memory directly.
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>
/// TorchSharp 0.107 has no public <c>data_ptr()</c> on <see cref="Tensor"/> (its Storage keeps it
/// protected), so this calls the same LibTorchSharp export, <c>THSStorage_data_ptr</c>, and adds the
/// tensor's storage offset. Callers pass contiguous CPU tensors and keep them alive while using the pointer.
/// </summary>
public static unsafe partial class TensorPointer
{
    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSStorage_data_ptr(IntPtr tensor);

    /// <summary>Pointer to element 0 of <paramref name="t"/> (contiguous, CPU).</summary>
    public static void* Of(Tensor t)
    {
        if (t.device_type != TorchSharp.DeviceType.CPU) throw new ArgumentException($"tensor on {t.device_type}: kernels read CPU memory only");
        if (!t.is_contiguous()) throw new ArgumentException("tensor must be contiguous");
        if (t.numel() == 0) return null;
        var basePtr = THSStorage_data_ptr(t.Handle);
        if (basePtr == IntPtr.Zero) throw new InvalidOperationException("libtorch returned no storage pointer");
        return (byte*)basePtr + t.storage_offset() * t.element_size();
    }
}
