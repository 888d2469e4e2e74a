// PackedWeight: a rows × cols matrix in a storage format — read in place from a memory-mapped checkpoint, or held in
// 64-byte aligned native memory — reference-counted.
using System.Runtime.InteropServices;
using Compression.Checkpoints;
using static TorchSharp.torch;

namespace Compression.Quantization;

/// <summary>
/// The packed bytes of one weight matrix (row-major, blocks along rows) outside the GC heap, so
/// kernels read it through plain pointers. Shared by an embedding and its tied head: each user calls
/// <see cref="AddRef"/>/<see cref="Release"/> and the memory is freed (or the file mapping let go) with the last one.
/// </summary>
public sealed unsafe class PackedWeight
{
    /// <summary>
    /// Stored tensors whose data starts on a multiple of this are read in place from the mapped file. The kernels
    /// use unaligned vector loads; the bound only keeps the 16/32-bit scalar reads of block headers aligned.
    /// </summary>
    public const int MapAlignment = 4;

    private byte* _data;
    private readonly MappedFile? _mapped; // set when _data points into a mapped checkpoint (not ours to free)
    private int _refs = 1;
    private const long HugePage = 2 << 20;
    private nint _layout; // the format's decode layout, built on first use (Kernels.DecodeLayout); ours to free
    private readonly object _layoutGate = new();

    public TensorFormat Format { get; }
    public int Rows { get; }
    public int Cols { get; }
    public long RowBytes { get; }
    public long ByteLength => Rows * RowBytes;
    /// <summary>True when the bytes are read in place from a memory-mapped file (no copy in anonymous memory).</summary>
    public bool IsMapped => _mapped is not null;
    /// <summary>
    /// When set, model row r is stored row <c>StoredRowOrder[r]</c> (a GGUF Q/K matrix mapped in place keeps llama.cpp's
    /// row permutation; <see cref="Row"/> and <see cref="PackedLinear"/> undo it). Null: rows are in model order.
    /// </summary>
    public int[]? StoredRowOrder { get; }

    private PackedWeight(TensorFormat format, int rows, int cols)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"{format.Name}: bad weight shape {rows}x{cols}");
        if (!format.Supports(cols)) throw new ArgumentException($"{format.Name} cannot hold rows of {cols} values");
        Format = format; Rows = rows; Cols = cols;
        RowBytes = format.RowBytes(cols);
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)ByteLength, 64);
        Checkpoints.HugePageMapping.AdviseAllocation(_data, ByteLength);
    }

    private PackedWeight(StoredTensor t, int rows, int cols)
    {
        Format = t.Format; Rows = rows; Cols = cols;
        RowBytes = t.RowBytes;
        StoredRowOrder = t.RowOrder;
        _mapped = t.Source.Retain();
        _data = t.Source.Pointer(t.Offset);
    }

    /// <summary>Pointer to row 0; valid while a reference is held.</summary>
    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(PackedWeight));

    /// <summary>Bytes of model row <paramref name="r"/>.</summary>
    public ReadOnlySpan<byte> Row(int r) => new(Data + (StoredRowOrder is null ? r : StoredRowOrder[r]) * RowBytes, (int)RowBytes);

    /// <summary>Stored rows [first, first+count) as one span (count·RowBytes must fit in an int); see <see cref="StoredRowOrder"/>.</summary>
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

    /// <summary>
    /// Re-encodes another packed matrix (in model row order) into <paramref name="format"/>, a row at a time: no float
    /// copy of the matrix is made, only one row buffer per thread.
    /// </summary>
    public static PackedWeight Convert(PackedWeight source, TensorFormat format)
    {
        if (!format.CanQuantize) throw new ArgumentException($"{format.Name} is read-only: the workbench cannot quantize to it");
        var packed = new PackedWeight(format, source.Rows, source.Cols);
        int cols = source.Cols;
        long rb = packed.RowBytes;
        nint dst = (nint)packed._data;
        Parallel.For(0, source.Rows, () => new float[cols], (r, _, row) =>
        {
            source.Format.DequantizeRow(source.Row(r), row);
            format.QuantizeRow(row, new Span<byte>((byte*)dst + r * rb, (int)rb));
            return row;
        }, _ => { });
        return packed;
    }

    /// <summary>
    /// The format's decode layout of this matrix (<see cref="Kernels.DecodeLayout"/>), written on the first call — one more
    /// copy of the matrix, in anonymous memory, until the weight is released — or null when the format has none.
    /// </summary>
    internal byte* DecodeLayout()
    {
        nint built = Volatile.Read(ref _layout);
        if (built != 0) return (byte*)built;
        long bytes = Format.DecodeLayoutBytes(Rows, Cols);
        if (bytes == 0) return null;
        lock (_layoutGate)
        {
            if (_layout == 0)
            {
                // Whole 2 MiB pages, as the mapped file it stands in for: 64-byte-aligned allocations left 0.4 of the 8B's
                // 1.06 GB of layouts (the ends of every matrix, and matrices under 4 MiB) in 4 KiB pages. Rounding up
                // costs ~0.1 GB there.
                long whole = (bytes + HugePage - 1) & ~(HugePage - 1);
                var layout = (byte*)NativeMemory.AlignedAlloc((nuint)whole, (nuint)HugePage);
                Checkpoints.HugePageMapping.Advise(layout, whole);
                Format.WriteDecodeLayout(Data, Rows, Cols, layout);
                Volatile.Write(ref _layout, (nint)layout);
            }
            return (byte*)_layout;
        }
    }

    /// <summary>Bytes of the decode layout built so far (0 until a decode GEMV asks for it).</summary>
    public long DecodeLayoutBytes => _layout == 0 ? 0 : Format.DecodeLayoutBytes(Rows, Cols);

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

    /// <summary>
    /// A checkpoint tensor as stored, without converting it: read in place from the mapped file when its data is
    /// <see cref="MapAlignment"/>-aligned (and <paramref name="map"/> is set), otherwise copied (rows in model order).
    /// </summary>
    public static PackedWeight FromStored(StoredTensor t, bool map = true)
    {
        if (t.Shape.Length != 2) throw new InvalidDataException($"{t.Name}: expected a 2-D tensor, got [{string.Join(", ", t.Shape)}]");
        int rows = checked((int)t.Shape[0]), cols = checked((int)t.Shape[1]);
        if (map && CanMap(t)) return new PackedWeight(t, rows, cols);
        var packed = new PackedWeight(t.Format, rows, cols);
        if (packed.ByteLength <= int.MaxValue) t.CopyTo(new Span<byte>(packed._data, (int)packed.ByteLength));
        else for (int r = 0; r < packed.Rows; r++) t.Row(r).CopyTo(new Span<byte>(packed._data + r * packed.RowBytes, (int)packed.RowBytes));
        return packed;
    }

    /// <summary>Whether <see cref="FromStored"/> can read <paramref name="t"/> in place.</summary>
    public static bool CanMap(StoredTensor t) =>
        t.Source.Length > 0 && ((nuint)t.Source.Pointer(t.Offset) % MapAlignment) == 0 && t.Format.Supports(t.Cols);

    public void AddRef()
    {
        if (Interlocked.Increment(ref _refs) <= 1) throw new ObjectDisposedException(nameof(PackedWeight));
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _refs) == 0)
        {
            if (_mapped is not null) _mapped.Dispose();
            else NativeMemory.AlignedFree(_data);
            _data = null;
            if (_layout != 0) NativeMemory.AlignedFree((void*)_layout);
            _layout = 0;
        }
    }
}
