// FormatRegistry: the one list of storage formats. Adding a format = a file in Formats/ and a row here.
using Compression.Quantization.Formats;

namespace Compression.Quantization;

/// <summary>Every storage format the workbench knows, looked up by name or GGUF type id.</summary>
public static class FormatRegistry
{
    /// <summary>All formats, in table order.</summary>
    public static IReadOnlyList<TensorFormat> All { get; } =
    [
        F32Format.Instance,
        F16Format.Instance,
        BF16Format.Instance,
        Q8_0Format.Instance,
        Int8Format.Instance,
        Q6_KFormat.Instance,
        Q4_0Format.Instance,
        Int4Format.G128,
        Int4Format.G64,
        Int4Format.G32,
        IntLowBitFormat.Int3G128,
        IntLowBitFormat.Int3G64,
        IntLowBitFormat.Int2G128,
        IntLowBitFormat.Int2G64,
        TQ2_0Format.Instance,
        TQ1_0Format.Instance,
        Q1_0Format.Instance,
    ];

    /// <summary>The format called <paramref name="name"/> (case-insensitive); throws listing the known names.</summary>
    public static TensorFormat Get(string name) =>
        TryGet(name) ?? throw new ArgumentException(
            $"unknown format '{name}'; known formats: {string.Join(", ", All.Select(f => f.Name))}");

    public static TensorFormat? TryGet(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The format with GGUF type id <paramref name="id"/>, or null when the workbench does not know it.</summary>
    public static TensorFormat? ByGgmlType(int id) => All.FirstOrDefault(f => f.GgmlTypeId == id);

    public static TensorFormat F32 => F32Format.Instance;
    public static TensorFormat F16 => F16Format.Instance;
    public static TensorFormat BF16 => BF16Format.Instance;
}
