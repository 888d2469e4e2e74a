// GgufTensorInfo: one entry of a GGUF file's tensor table, validated against the file.
using Compression.Quantization;

namespace Compression.Checkpoints.Gguf;

/// <summary>A tensor as a GGUF file declares it: dimensions fastest-first (ggml's <c>ne</c>), type, where its data is.</summary>
public sealed class GgufTensorInfo
{
    public required string Name { get; init; }
    /// <summary>Dimensions fastest-first (ne[0] is the row length); reverse for PyTorch order.</summary>
    public required long[] Dimensions { get; init; }
    /// <summary>The ggml type id as stored.</summary>
    public required uint GgmlType { get; init; }
    /// <summary>The workbench format for <see cref="GgmlType"/>.</summary>
    public required TensorFormat Format { get; init; }
    /// <summary>Offset as stored: relative to the start of the data section.</summary>
    public required long RelativeOffset { get; init; }
    /// <summary>Absolute byte offset of the data in the file.</summary>
    public required long Offset { get; init; }
    public required long ByteLength { get; init; }

    public long Elements => Dimensions.Aggregate(1L, (a, b) => a * b);
    /// <summary>Dimensions slowest-first, as PyTorch and Hugging Face list them.</summary>
    public long[] Shape => Dimensions.Reverse().ToArray();

    public override string ToString() => $"{Name} {Format.Name} [{string.Join(", ", Dimensions)}] @{Offset}";
}
