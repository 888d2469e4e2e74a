// SafetensorsDtype: the mapping between safetensors dtype strings and the workbench's float formats.
using Compression.Quantization;

namespace Compression.Checkpoints.Safetensors;

/// <summary>
/// The safetensors dtypes the workbench reads and writes (F32, F16, BF16), and the ones it knows
/// but does not read, so an error can say "unsupported" rather than "unknown".
/// </summary>
public static class SafetensorsDtype
{
    private static readonly (string Dtype, TensorFormat Format)[] Supported =
    [
        ("F32", FormatRegistry.F32),
        ("F16", FormatRegistry.F16),
        ("BF16", FormatRegistry.BF16),
    ];

    // Every other dtype of the safetensors spec (and of the Rust reference's Dtype enum).
    private static readonly HashSet<string> KnownUnsupported =
    [
        "BOOL", "U8", "I8", "U16", "I16", "U32", "I32", "U64", "I64", "F64", "C64",
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4",
    ];

    /// <summary>"F32, F16, BF16" — for error messages.</summary>
    public static string SupportedList => string.Join(", ", Supported.Select(s => s.Dtype));

    /// <summary>The format stored under <paramref name="dtype"/>, or null when the workbench does not read it.</summary>
    public static TensorFormat? TryGetFormat(string dtype) =>
        Supported.FirstOrDefault(s => s.Dtype == dtype).Format;

    /// <summary>True for dtypes the safetensors spec defines (whether or not they are readable here).</summary>
    public static bool IsKnown(string dtype) => TryGetFormat(dtype) is not null || KnownUnsupported.Contains(dtype);

    /// <summary>The dtype string for <paramref name="format"/>; throws for formats safetensors cannot hold.</summary>
    public static string For(TensorFormat format) =>
        Supported.FirstOrDefault(s => ReferenceEquals(s.Format, format)).Dtype
        ?? throw new ArgumentException($"format '{format.Name}' cannot be stored in safetensors (supported: {SupportedList})");

    /// <summary>The config.json "torch_dtype" spelling for <paramref name="format"/> ("float32", "float16", "bfloat16").</summary>
    public static string TorchDtype(TensorFormat format) => For(format) switch
    {
        "F32" => "float32",
        "F16" => "float16",
        _ => "bfloat16",
    };
}
