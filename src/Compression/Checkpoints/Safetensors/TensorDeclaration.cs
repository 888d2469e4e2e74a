// TensorDeclaration: a tensor a writer has been told to expect — name, storage format, shape.
using Compression.Quantization;

namespace Compression.Checkpoints.Safetensors;

/// <summary>A tensor declared to a writer before its bytes are streamed; shape in PyTorch order (out, in).</summary>
public sealed record TensorDeclaration(string Name, TensorFormat Format, long[] Shape)
{
    public long Elements => Shape.Aggregate(1L, (a, b) => checked(a * b));
    public long Cols => Shape[^1];
    public long Rows => Elements == 0 ? 0 : Elements / Cols;
    /// <summary>Bytes of the tensor's data.</summary>
    public long ByteLength => checked(Rows * Format.RowBytes(Cols));

    /// <summary>Throws <see cref="ArgumentException"/> when the declaration cannot be written as safetensors.</summary>
    internal void Validate()
    {
        if (string.IsNullOrEmpty(Name) || Name == "__metadata__")
            throw new ArgumentException($"tensor name '{Name}' is not allowed in safetensors");
        SafetensorsDtype.For(Format);
        if (Shape.Length == 0) throw new ArgumentException($"tensor '{Name}': rank-0 tensors are not supported");
        if (Shape.Any(d => d < 0)) throw new ArgumentException($"tensor '{Name}': negative dimension in [{string.Join(", ", Shape)}]");
        _ = ByteLength;
    }

    public override string ToString() => $"{Name} {Format.Name} [{string.Join(", ", Shape)}]";
}
