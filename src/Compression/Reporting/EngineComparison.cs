// EngineComparison: the report's "engines side by side" table — each format's quality, size and speed on every engine
// that ran it, one line per engine, so the workbench, llama.cpp and ONNX Runtime read down one column.
using System.Globalization;
using System.Text;

namespace Compression.Reporting;

/// <summary>Renders the engines table of a report whose records span more than one engine (sweeps with <c>engines</c>).</summary>
public static class EngineComparison
{
    static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>One format × policy on one engine: what the table shows.</summary>
    public sealed record Row(string Model, string Format, string Policy, string Engine, SizeInfo? Size, double? Perplexity,
        double? KlMean, double? Top1, string? KlBaseline, double? MeanAccuracy, int AccuracyTasks, double? DecodeTokensPerSecond);

    /// <summary>
    /// Rows of every (model, format, policy, engine) that was evaluated (records whose engine is part of the task name —
    /// the benchmark's throughput convention — are left to the throughput table), ordered by model, bits per weight
    /// (descending), format, then engine. Empty when the records hold one engine only.
    /// </summary>
    public static IReadOnlyList<Row> Rows(IReadOnlyList<ResultRecord> records)
    {
        var evaluated = records.Where(r => !(r.Key.EngineImplied && r.Engine != ResultKey.DefaultEngine)).ToList();
        if (evaluated.Select(r => r.Engine).Distinct().Count() < 2) return [];
        return evaluated.GroupBy(r => (r.Model.Name, r.Format, Policy: r.Method is null or ResultKey.Rtn ? r.Policy : $"{r.Policy} + {r.Method}", r.Engine))
            .Select(g =>
            {
                double? Value(string task, string metric) =>
                    g.Where(r => r.Task.Name == task && r.Metrics.ContainsKey(metric)).OrderByDescending(r => r.TimeUtc).FirstOrDefault()?.Metrics[metric].Value;
                var kl = g.Where(r => r.Task.Name == "kl-divergence").OrderByDescending(r => r.TimeUtc).FirstOrDefault();
                var acc = g.Where(r => r.Metrics.ContainsKey(MetricNames.Accuracy)).GroupBy(r => r.Task.Name)
                    .Select(t => t.Average(r => r.Metrics[MetricNames.Accuracy].Value)).ToList();
                var size = g.Where(r => r.Size is not null).OrderByDescending(r => r.TimeUtc).Select(r => r.Size).FirstOrDefault();
                return new Row(g.Key.Name, g.Key.Format, g.Key.Policy, g.Key.Engine, size,
                    Value("perplexity", MetricNames.Perplexity), kl?.Metrics[MetricNames.KlMean].Value,
                    kl?.Metrics.GetValueOrDefault(MetricNames.Top1Agreement)?.Value, kl?.Settings.Extra?.GetValueOrDefault("baseline"),
                    acc.Count > 0 ? acc.Average() : null, acc.Count,
                    Value("throughput", MetricNames.DecodeTokensPerSecond));
            })
            .OrderBy(r => r.Model, StringComparer.Ordinal)
            .ThenByDescending(r => r.Policy == "baseline")
            .ThenByDescending(r => FormatBits(r))
            .ThenBy(r => r.Format, StringComparer.OrdinalIgnoreCase).ThenBy(r => r.Policy, StringComparer.Ordinal)
            .ThenBy(r => EngineRank(r.Engine)).ToList();

        // A format's rows stay together: ordered by the largest size any engine measured for it.
        double FormatBits(Row r) => evaluated.Where(x => x.Model.Name == r.Model && x.Format == r.Format && x.Size is not null)
            .Select(x => x.Size!.BitsPerWeight).DefaultIfEmpty(0).Max();
    }

    static int EngineRank(string engine) => engine switch { ResultKey.DefaultEngine => 0, "llama.cpp" => 1, "onnxruntime" => 2, _ => 3 };

    /// <summary>Appends the section (nothing when the records hold one engine).</summary>
    public static void Append(StringBuilder md, IReadOnlyList<ResultRecord> records)
    {
        var rows = Rows(records);
        if (rows.Count == 0) return;
        md.AppendLine("## Engines, side by side").AppendLine();
        md.AppendLine("Each format on every engine that ran it. Bits per weight from the bytes each engine holds (the workbench: "
            + "weights in memory; llama.cpp: the GGUF's tensor data; ONNX Runtime: model.onnx + model.onnx.data, rotary caches included). "
            + "KL and top-1: against the baseline named; accuracy: mean over the multiple-choice tasks.").AppendLine();
        md.AppendLine("| model | format | policy | engine | bits/weight | perplexity | KL mean | top-1 | KL baseline | accuracy | decode tok/s |");
        md.AppendLine("|---|---|---|---|---:|---:|---:|---:|---|---:|---:|");
        foreach (var r in rows)
        {
            string F(double? v, string f) => v is double x && double.IsFinite(x) ? x.ToString(f, s_inv) : "—";
            md.Append("| ").Append(r.Model).Append(" | ").Append(r.Format).Append(" | ").Append(r.Policy).Append(" | ").Append(r.Engine)
                .Append(" | ").Append(F(r.Size?.BitsPerWeight, "0.000"))
                .Append(" | ").Append(F(r.Perplexity, "0.0000"))
                .Append(" | ").Append(r.KlMean is double k ? k.ToString(k < 1e-3 ? "0.00e+0" : "0.00000", s_inv) : "—")
                .Append(" | ").Append(r.Top1 is double t ? (100 * t).ToString("0.00", s_inv) + " %" : "—")
                .Append(" | ").Append(r.KlBaseline ?? "—")
                .Append(" | ").Append(r.MeanAccuracy is double a ? (100 * a).ToString("0.0", s_inv) + $" % ({r.AccuracyTasks})" : "—")
                .Append(" | ").Append(F(r.DecodeTokensPerSecond, "0")).AppendLine(" |");
        }
        md.AppendLine();
    }
}
