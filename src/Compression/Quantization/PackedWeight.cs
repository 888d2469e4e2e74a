// PackedWeight: a rows × cols matrix in a storage format, in 64-byte aligned native memory, reference-counted.
using System.Runtime.InteropServices;
using Compression.Checkpoints;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>
/// The packed bytes of one weight matrix (row-major, blocks along rows) outside the GC heap, so
/// kernels read it through plain pointers. Shared by an embedding and its tied head: each user calls
/// <see cref="AddRef"/>/<see cref="Release"/> and the memory is freed with the last one.
/// </summary>
public sealed unsafe class PackedWeight
{
    private byte* _data;
    private int _refs = 1;

    public TensorFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long RowBytes { get; }
    public long ByteLength => Rows * RowBytes;

    private PackedWeight(TensorFormat format, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"{format.Name}: bad weight shape {rows}x{cols}");
        if (!format.Supports(cols)) throw new ArgumentException($"{format.Name} cannot hold rows of {cols} values");
        Format = format; Rows = rows; Cols = cols;
        RowBytes = format.RowBytes(cols);
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
    }

    /// <summary>Pointer to row 0; valid while a reference is held.</summary>
    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(PackedWeight));

    /// <summary>Bytes of row <paramref name="r"/>.</summary>
    public ReadOnlySpan<byte> Row(int r) => new(Data + r * RowBytes, (int)RowBytes);

    /// <summary>Rows [first, first+count) as one span (count·RowBytes must fit in an int).</summary>
    public ReadOnlySpan<byte> RowSpan(int first, int count) => new(Data + first * RowBytes, checked((int)(count * RowBytes)));

    /// <summary>Quantizes a float32 (rows, cols) tensor row by row (rows in parallel).</summary>
    public static PackedWeight Quantize(Tensor weight, TensorFormat format)
    {
        if (weight.dim() != 2) throw new ArgumentException($"expected a 2-D weight, got shape [{string.Join(", ", weight.shape)}]");
        if (!format.CanQuantize) throw new ArgumentException($"{format.Name} is read-only: the workbench cannot quantize to it");
        using var scope = NewDisposeScope();
        var w = weight.detach().to(ScalarType.Float32, CPU).contiguous();
        int rows = checked((int)w.shape[0]), cols = checked((int)w.shape[1]);
        var packed = new PackedWeight(format, rows, cols);
        nint src = (nint)TensorPointer.Of(w), dst = (nint)packed._data;
        long rb = packed.RowBytes;
        Parallel.For(0, rows, r => format.QuantizeRow(
            new ReadOnlySpan<float>((float*)src + (long)r * cols, cols), new Span<byte>((byte*)dst + r * rb, (int)rb)));
        return packed;
    }

    /// <summary>Copies already-packed bytes (<c>rows·RowBytes</c> of them) for a rows × cols matrix.</summary>
    public static PackedWeight FromBytes(ReadOnlySpan<byte> bytes, TensorFormat format, int rows, int cols)
    {
        var packed = new PackedWeight(format, rows, cols);
        if (bytes.Length != packed.ByteLength)
        {
            packed.Release();
            throw new ArgumentException($"{format.Name} {rows}x{cols}: expected {packed.ByteLength} packed bytes, got {bytes.Length}");
        }
        bytes.CopyTo(new Span<byte>(packed._data, bytes.Length));
        return packed;
    }

    /// <summary>Copies a checkpoint tensor's rows (in model order) without converting them.</summary>
    public static PackedWeight FromStored(StoredTensor t)
    {
        if (t.Shape.Length != 2) throw new InvalidDataException($"{t.Name}: expected a 2-D tensor, got [{string.Join(", ", t.Shape)}]");
        var packed = new PackedWeight(t.Format, checked((int)t.Shape[0]), checked((int)t.Shape[1]));
        if (packed.ByteLength <= int.MaxValue) t.CopyTo(new Span<byte>(packed._data, (int)packed.ByteLength));
        else for (int r = 0; r < packed.Rows; r++) t.Row(r).CopyTo(new Span<byte>(packed._data + r * packed.RowBytes, (int)packed.RowBytes));
        return packed;
    }

    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1) throw new ObjectDisposedException(nameof(PackedWeight));
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            NativeMemory.AlignedFree(_data);
            _data = null;
        }
    }
}
