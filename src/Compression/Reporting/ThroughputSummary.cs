// ThroughputSummary: every throughput record of a results folder as one table across models, files and engines —
// the side-by-side view of a benchmark like results/bench-8b, where each GGUF file is its own model.
namespace Compression.Reporting;

/// <summary>One throughput measurement: which file/format on which engine, its speeds, roofline share and memory.</summary>
public sealed record ThroughputRow(
    string Model, string Format, string Policy, string Engine, SizeInfo? Size,
    MetricValue? Prefill, MetricValue Decode, MetricValue? MsPerToken, double? RooflineTokensPerSecond, double? RooflineFraction,
    double? ReadBandwidth, long? WeightBytesPerToken, long? PeakRss, long? PeakAnonymous)
{
    /// <summary>"q4_0" for a baseline run, "q4_0 (pure)" for an in-memory quantization under a policy.</summary>
    public string Label => Policy == "baseline" ? Format : $"{Format} ({Policy})";
}

public static class ThroughputSummary
{
    /// <summary>The engine a throughput record ran on: its <c>engine</c> setting, else the task's suffix ("throughput.llama.cpp").</summary>
    public static string EngineOf(ResultRecord r) =>
        r.Settings.Extra?.GetValueOrDefault("engine")
        ?? (r.Task.Name.StartsWith("throughput.", StringComparison.Ordinal) ? r.Task.Name["throughput.".Length..] : "torchsharp");

    /// <summary>Rows of every record with a decode speed, newest record per (model, format, policy, engine), sorted by bits per weight.</summary>
    public static IReadOnlyList<ThroughputRow> Rows(IReadOnlyList<ResultRecord> records) =>
        records.Where(r => r.Metrics.ContainsKey(MetricNames.DecodeTokensPerSecond))
            .GroupBy(r => (r.Model.Name, r.Format, r.Policy, Engine: EngineOf(r)))
            .Select(g => g.OrderByDescending(r => r.TimeUtc).First())
            .Select(r => new ThroughputRow(r.Model.Name, r.Format, r.Policy, EngineOf(r), r.Size,
                r.Metrics.GetValueOrDefault(MetricNames.PrefillTokensPerSecond), r.Metrics[MetricNames.DecodeTokensPerSecond],
                r.Metrics.GetValueOrDefault(MetricNames.DecodeMsPerToken),
                r.Metrics.GetValueOrDefault(MetricNames.RooflineTokensPerSecond)?.Value, r.Metrics.GetValueOrDefault(MetricNames.RooflineFraction)?.Value,
                r.Metrics.GetValueOrDefault(MetricNames.ReadBandwidth)?.Value, Long(r, MetricNames.WeightBytesPerToken),
                Long(r, MetricNames.RunPeakResidentBytes) ?? Long(r, MetricNames.PeakResidentBytes), Long(r, MetricNames.PeakAnonymousBytes)))
            .OrderBy(r => r.Size?.BitsPerWeight ?? double.MaxValue).ThenBy(r => r.Model, StringComparer.Ordinal)
            .ThenBy(r => r.Engine, StringComparer.Ordinal).ToList();

    /// <summary>
    /// The workbench's decode speed ÷ another engine's on the same model, format and policy (the same file), or null
    /// when that engine did not run it.
    /// </summary>
    public static double? RatioTo(ThroughputRow row, IReadOnlyList<ThroughputRow> rows, string engine)
    {
        if (row.Engine == engine) return null;
        var other = rows.FirstOrDefault(o => o.Engine == engine && o.Model == row.Model && o.Format == row.Format && o.Policy == row.Policy);
        return other is null || other.Decode.Value <= 0 ? null : row.Decode.Value / other.Decode.Value;
    }

    private static long? Long(ResultRecord r, string metric) =>
        r.Metrics.GetValueOrDefault(metric) is { } m && double.IsFinite(m.Value) ? (long)m.Value : null;
}
