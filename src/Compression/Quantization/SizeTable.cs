// SizeTable: the size comparison of a model across every registered format and policy.
using Compression.Model;

namespace Compression.Quantization;

public static class SizeTable
{
    /// <summary>
    /// Baselines (f32, bf16, f16: every tensor in that format), then for each quantizing format its
    /// size under the workbench default, under <c>--pure</c>, and — for GGUF formats whose llama-quantize choices the
    /// workbench can make — under llama.cpp's own choices.
    /// </summary>
    public static IReadOnlyList<ModelSize> Rows(LlamaConfig c)
    {
        var rows = new List<ModelSize>();
        long parameters = LlamaTensorLayout.ParameterCount(c);
        foreach (var f in FormatRegistry.All.Where(f => f.IsFloat))
            rows.Add(new ModelSize(f.Name, "all tensors", parameters, SizeAccounting.FloatBytes(c, f), new Dictionary<string, long> { [f.Name] = SizeAccounting.FloatBytes(c, f) }));
        foreach (var f in FormatRegistry.All.Where(f => !f.IsFloat && f.CanQuantize))
        {
            rows.Add(SizeAccounting.Measure(c, QuantizationPolicy.Default(f)));
            rows.Add(SizeAccounting.Measure(c, QuantizationPolicy.PureOf(f)));
            if (f.GgmlTypeId is not null && f.LlamaCppDefaultGap is null) rows.Add(SizeAccounting.Measure(c, QuantizationPolicy.LlamaCppDefault(f)));
        }
        return rows;
    }

    /// <summary>One model of the family comparison: its size with every 2-D tensor in each format (llama-quantize --pure; Bonsai's layout).</summary>
    public sealed record FamilyRow(string Model, string Family, long Parameters, long ActiveParameters, IReadOnlyList<(string Format, long Bytes)> Sizes);

    /// <summary>The family size comparison: each model of <see cref="PublishedSizes.ComparisonModels"/> at f16, q8_0, q4_0 and q1_0.</summary>
    public static IReadOnlyList<FamilyRow> FamilyRows(IReadOnlyList<string>? formats = null)
    {
        formats ??= ["f16", "q8_0", "q4_0", "q1_0"];
        return PublishedSizes.ComparisonModels.Select(m =>
        {
            var c = LlamaConfig.Preset(m.Preset);
            var sizes = formats.Select(f => FormatRegistry.Get(f) is var format && format.IsFloat
                ? (f, SizeAccounting.FloatBytes(c, format))
                : (f, SizeAccounting.Measure(c, QuantizationPolicy.PureOf(format)).Bytes)).ToList();
            return new FamilyRow(m.Label, c.Family.Name, LlamaTensorLayout.ParameterCount(c), LlamaTensorLayout.ActiveParameterCount(c), sizes);
        }).ToList();
    }
}
