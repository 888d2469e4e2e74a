// Scratch: per-thread, 64-byte aligned native buffers that kernels reuse instead of allocating per call.
using System.Runtime.InteropServices;

namespace Compression.Kernels;

/// <summary>
/// Grow-only native scratch memory, one set of slots per thread. Native (not managed) memory so
/// worker threads can read it through plain pointers without pinning. A slot stays valid until the
/// same thread asks for the same slot again.
/// </summary>
internal static unsafe class Scratch
{
    public const int Slots = 5;
    [ThreadStatic] private static nint[]? _ptr;
    [ThreadStatic] private static nuint[]? _size;

    /// <summary>At least <paramref name="bytes"/> bytes of slot <paramref name="slot"/> for this thread.</summary>
    public static byte* Get(int slot, nuint bytes)
    {
        _ptr ??= new nint[Slots];
        _size ??= new nuint[Slots];
        if (_size[slot] < bytes)
        {
            if (_ptr[slot] != 0) NativeMemory.AlignedFree((void*)_ptr[slot]);
            nuint grown = Math.Max(bytes, _size[slot] * 2);
            _ptr[slot] = (nint)NativeMemory.AlignedAlloc(grown, 64);
            _size[slot] = grown;
        }
        return (byte*)_ptr[slot];
    }
}
