// PublishedSizes: sizes and parameter counts the model makers published for the shipped presets, each beside the number
// the workbench computes from the config — so `inspect` shows whether the layout accounts for every tensor.
using Compression.Model;

namespace Compression.Quantization;

/// <summary>One published figure for a preset, with how to compute the same quantity from its config.</summary>
/// <param name="Preset">Shipped preset name (experiments/configs).</param>
/// <param name="Quantity">What was published ("parameters", "FP16 size", ...).</param>
/// <param name="Published">The figure as published, in <paramref name="Unit"/>.</param>
/// <param name="Unit">"B" (10⁹ parameters), "GB" (10⁹ bytes) or "bytes".</param>
/// <param name="Source">Who published it.</param>
/// <param name="Compute">The same quantity computed from the config, in <paramref name="Unit"/>.</param>
/// <param name="Tolerance">How far the computed value may be from the published one; null: half a unit of the last published digit.</param>
public sealed record PublishedSize(string Preset, string Quantity, double Published, string Unit, string Source, Func<LlamaConfig, double> Compute,
    double? Tolerance = null);

public static class PublishedSizes
{
    private static double Billions(long n) => n / 1e9;

    public static IReadOnlyList<PublishedSize> All { get; } =
    [
        new("llama-3.1-8b", "parameters", 8.03, "B", "Meta (model card)", c => Billions(LlamaTensorLayout.ParameterCount(c))),
        // The comparison quotes 16.07 GB; the weights are 16,060,522,496 bytes (16.06 GB).
        new("llama-3.1-8b", "BF16 size (as quoted)", 16.07, "GB", "the seed comparison (Bonsai 8B announcement)",
            c => SizeAccounting.FloatBytes(c, FormatRegistry.BF16) / 1e9, Tolerance: 0.01),
        new("qwen3-8b", "parameters", 8.2, "B", "Qwen (model card)", c => Billions(LlamaTensorLayout.ParameterCount(c))),
        new("qwen3-8b", "FP16 size", 16.38, "GB", "PrismML (Bonsai 8B announcement)", c => SizeAccounting.FloatBytes(c, FormatRegistry.F16) / 1e9),
        new("bonsai-8b", "GGUF file, Q1_0 everywhere (computed: tensor bytes, pure q1_0, norms f32)", 1_151_820_864, "bytes", "PrismML (Bonsai 8B GGUF)",
            c => SizeAccounting.Measure(c, QuantizationPolicy.PureOf(FormatRegistry.Get("q1_0"))).Bytes),
        new("bonsai-8b", "FP16 size of the same architecture", 16.38, "GB", "PrismML (Bonsai 8B announcement)", c => SizeAccounting.FloatBytes(c, FormatRegistry.F16) / 1e9),
        new("llama-2-7b", "parameters", 6.74, "B", "Meta / Hugging Face (Llama-2-7b-hf)", c => Billions(LlamaTensorLayout.ParameterCount(c))),
        // Announced as "7.3B"; the released checkpoint holds 7,241,732,096 parameters.
        new("mistral-7b-v0.1", "parameters (as announced)", 7.3, "B", "Mistral AI (Mistral 7B announcement)",
            c => Billions(LlamaTensorLayout.ParameterCount(c)), Tolerance: 0.06),
        new("mixtral-8x7b", "parameters, total", 46.7, "B", "Mistral AI (Mixtral of experts announcement)", c => Billions(LlamaTensorLayout.ParameterCount(c))),
        new("mixtral-8x7b", "parameters, active per token", 12.9, "B", "Mistral AI (Mixtral of experts announcement)", c => Billions(LlamaTensorLayout.ActiveParameterCount(c))),
    ];

    /// <summary>The published figures of <paramref name="preset"/> (none for a config that is not a shipped preset).</summary>
    public static IEnumerable<PublishedSize> For(string? preset) => All.Where(p => p.Preset == preset);

    /// <summary>The models of the family size comparison (Llama 3.1 8B against its relatives).</summary>
    public static IReadOnlyList<(string Label, string Preset)> ComparisonModels { get; } =
    [
        ("Llama 3.1 8B", "llama-3.1-8b"), ("Qwen3 8B", "qwen3-8b"), ("Bonsai 8B", "bonsai-8b"), ("Llama 2 7B", "llama-2-7b"),
        ("Mistral 7B", "mistral-7b-v0.1"), ("Mixtral 8x7B", "mixtral-8x7b"),
    ];
}
