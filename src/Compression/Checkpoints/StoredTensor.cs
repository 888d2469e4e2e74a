// StoredTensor: one tensor as it lies in a checkpoint file — name, shape, format and where its bytes are.
using System.Runtime.InteropServices;
using Compression.Quantization;

namespace Compression.Checkpoints;

/// <summary>
/// A tensor in a memory-mapped checkpoint, under its Hugging Face name, shape in PyTorch order
/// (slowest first: out, in). Rows are the last dimension; blocks of quantized formats run along rows.
/// </summary>
public sealed unsafe class StoredTensor
{
    public required string Name { get; init; }
    /// <summary>Name inside the file (differs from <see cref="Name"/> for GGUF).</summary>
    public required string FileTensorName { get; init; }
    public required long[] Shape { get; init; }
    public required TensorFormat Format { get; init; }
    public required MappedFile Source { get; init; }
    /// <summary>Absolute byte offset of the tensor data in <see cref="Source"/>.</summary>
    public required long Offset { get; init; }
    /// <summary>
    /// When set, output row r of the tensor is stored row <c>RowOrder[r]</c> in the file
    /// (GGUF keeps Q/K rows permuted for its RoPE layout; this undoes it on read).
    /// </summary>
    public int[]? RowOrder { get; init; }

    public long Cols => Shape[^1];
    public long Rows => Shape.Length == 1 ? 1 : Shape[..^1].Aggregate(1L, (a, b) => a * b);
    public long Elements => Rows * Cols;
    public long RowBytes => Format.RowBytes(Cols);
    public long ByteLength => Rows * RowBytes;

    /// <summary>Bytes of stored row <paramref name="r"/> (after un-permuting).</summary>
    public ReadOnlySpan<byte> Row(long r)
    {
        long src = RowOrder is null ? r : RowOrder[r];
        return new ReadOnlySpan<byte>(Source.Pointer(Offset + src * RowBytes), checked((int)RowBytes));
    }

    /// <summary>Copies all rows, in model order, into <paramref name="dst"/> (ByteLength bytes).</summary>
    public void CopyTo(Span<byte> dst)
    {
        if (dst.Length < ByteLength) throw new ArgumentException($"{Name}: destination holds {dst.Length} bytes, need {ByteLength}");
        if (RowOrder is null && ByteLength <= int.MaxValue)
        {
            new ReadOnlySpan<byte>(Source.Pointer(Offset), (int)ByteLength).CopyTo(dst);
            return;
        }
        int rb = checked((int)RowBytes);
        for (long r = 0; r < Rows; r++) Row(r).CopyTo(dst.Slice(checked((int)(r * rb)), rb));
    }

    /// <summary>Dequantizes rows [first, first+count) into float32 (row-major).</summary>
    public void ReadRows(long first, int count, Span<float> dst)
    {
        int cols = checked((int)Cols);
        for (int i = 0; i < count; i++) Format.DequantizeRow(Row(first + i), dst.Slice(i * cols, cols));
    }

    /// <summary>The whole tensor as float32 — only for small tensors (norms, test models).</summary>
    public float[] ToFloat32()
    {
        var result = new float[checked((int)Elements)];
        ReadRows(0, checked((int)Rows), result);
        return result;
    }

    public override string ToString() => $"{Name} {Format.Name} [{string.Join(", ", Shape)}]";
}
