// MethodRegistry: the one list of quantization methods. Adding a method = a file in Methods/ and a row here.
namespace Compression.Quantization.Methods;

/// <summary>Every quantization method the workbench knows, looked up by name.</summary>
public static class MethodRegistry
{
    /// <summary>All methods, in table order.</summary>
    public static IReadOnlyList<QuantizationMethod> All { get; } =
    [
        RtnMethod.Instance,
        GptqMethod.Default,
        AwqMethod.Instance,
        ImatrixMethod.Instance,
    ];

    /// <summary>Round-to-nearest: what every format does without calibration.</summary>
    public static QuantizationMethod Rtn => RtnMethod.Instance;

    /// <summary>The method called <paramref name="name"/> (case-insensitive); throws listing the known names.</summary>
    public static QuantizationMethod Get(string name) =>
        TryGet(name) ?? throw new ArgumentException($"unknown method '{name}'; known methods: {string.Join(", ", All.Select(m => m.Name))}");

    public static QuantizationMethod? TryGet(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));
}
