// ReportWriter: aggregates result records into results/REPORT.md — headline and size tables, provenance, charts, problems.
using System.Globalization;
using System.Text;

using Compression.IO;

namespace Compression.Reporting;

/// <summary>What <see cref="ReportWriter.Generate"/> wrote.</summary>
public sealed record ReportOutput(string ReportPath, string CsvPath, IReadOnlyList<ChartFile> Charts,
    IReadOnlyList<string> Problems, int RecordCount);

/// <summary>Writes the Markdown report. Rendering is pure (records in, text out); writing is atomic.</summary>
public static class ReportWriter
{
    static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    /// <summary>
    /// The whole job of <c>compress report</c>: loads every record of <paramref name="store"/> (unreadable files become
    /// listed problems), exports ROOT/results.csv, draws the charts into ROOT/charts/, and writes ROOT/REPORT.md.
    /// </summary>
    public static ReportOutput Generate(ResultsStore store, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var set = store.LoadAll();
        string csv = Path.Combine(store.Root, "results.csv");
        AtomicFile.WriteAllText(csv, ResultsCsv.ToCsv(set.Records));
        var charts = ReportCharts.WriteAll(set.Records, Path.Combine(store.Root, "charts"), options);
        var problems = set.Errors.Select(e => e.Message).Concat(charts.Problems).ToList();
        string report = Path.Combine(store.Root, "REPORT.md");
        Write(report, set.Records, charts.Charts, problems, options);
        return new ReportOutput(report, csv, charts.Charts, problems, set.Records.Count);
    }

    /// <summary>Renders the report and writes it atomically to <paramref name="path"/>; chart links are relative to its folder.</summary>
    public static void Write(string path, IReadOnlyList<ResultRecord> records, IReadOnlyList<ChartFile> charts,
        IReadOnlyList<string> problems, ReportOptions? options = null)
    {
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        AtomicFile.WriteAllText(path, Render(records, charts, problems, dir, options ?? new ReportOptions()));
    }

    /// <summary>
    /// One row per training run (quantization-aware training): steps, wall time, and the validation loss and KL at step 0
    /// (the post-training quantization it started from) and at the end, beside the float baseline's loss on the same windows.
    /// </summary>
    private static void AppendTrainingRuns(StringBuilder md, IReadOnlyList<TrainingCurve> curves)
    {
        md.AppendLine("## Training runs (validation windows of the training corpus)").AppendLine();
        md.AppendLine("| run | steps | wall time | float baseline loss | step-0 loss (PTQ) | final loss | step-0 KL | final KL |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        string F(double? v, string fmt) => v is { } x ? x.ToString(fmt, s_inv) : "—";
        foreach (var c in curves)
        {
            var first = c.Points.OrderBy(p => p.Step).FirstOrDefault();
            var last = c.Points.OrderBy(p => p.Step).LastOrDefault();
            md.Append("| ").Append(Escape(c.Label)).Append(" | ").Append(last?.Step.ToString(s_inv) ?? "—")
              .Append(" | ").Append(c.ElapsedSeconds is { } e ? $"{e / 60:0.0} min" : "—")
              .Append(" | ").Append(F(c.BaselineLoss, "0.0000"))
              .Append(" | ").Append(first?.Step == 0 ? F(first.Loss, "0.0000") : "—")
              .Append(" | ").Append(F(last?.Loss, "0.0000"))
              .Append(" | ").Append(first?.Step == 0 ? F(first.Kl, "0.0000") : "—")
              .Append(" | ").Append(F(last?.Kl, "0.0000")).AppendLine(" |");
        }
        md.AppendLine();
    }

    /// <summary>The report as Markdown. <paramref name="reportDirectory"/> is where it will live (for relative chart links).</summary>
    public static string Render(IReadOnlyList<ResultRecord> records, IReadOnlyList<ChartFile> charts,
        IReadOnlyList<string> problems, string reportDirectory, ReportOptions options)
    {
        var md = new StringBuilder();
        md.Append("# ").AppendLine(options.Title).AppendLine();
        AppendProvenance(md, records, options);
        foreach (var table in ResultTable.Build(records, options.BaselineFormat))
        {
            md.Append("## ").Append(Escape(table.Model)).Append(" (").Append(table.ParameterCount.ToString("N0", s_inv)).AppendLine(" parameters)").AppendLine();
            AppendHeadline(md, table);
            AppendSizes(md, table);
        }
        EngineComparison.Append(md, records);
        if (options.SizeTable is { Count: > 0 } sizes) AppendSizeTable(md, sizes, options);
        AppendThroughput(md, ThroughputSummary.Rows(records));
        if (options.TrainingCurves is { Count: > 0 } curves) AppendTrainingRuns(md, curves);
        if (charts.Count > 0)
        {
            md.AppendLine("## Charts").AppendLine();
            foreach (var c in charts)
            {
                string png = Link(reportDirectory, c.PngPath), svg = Link(reportDirectory, c.SvgPath);
                md.Append("### ").AppendLine(Escape(c.Title)).AppendLine();
                md.Append("![").Append(Escape(c.Title)).Append("](").Append(png).Append(") ([SVG](").Append(svg).AppendLine("))").AppendLine();
            }
        }
        if (problems.Count > 0)
        {
            md.AppendLine("## Problems").AppendLine();
            foreach (var p in problems) md.Append("- ").AppendLine(Escape(p));
            md.AppendLine();
        }
        return md.ToString();
    }

    static void AppendProvenance(StringBuilder md, IReadOnlyList<ResultRecord> records, ReportOptions options)
    {
        var generated = (options.GeneratedUtc ?? DateTimeOffset.UtcNow).UtcDateTime;
        md.Append("Generated ").Append(generated.ToString("yyyy-MM-dd HH:mm", s_inv)).Append(" UTC from ")
            .Append(records.Count).AppendLine(records.Count == 1 ? " record." : " records.").AppendLine();
        if (records.Count == 0) return;
        var first = records.Min(r => r.TimeUtc).UtcDateTime;
        var last = records.Max(r => r.TimeUtc).UtcDateTime;
        md.Append("- Measured: ").Append(first.ToString("yyyy-MM-dd HH:mm", s_inv));
        if (last - first >= TimeSpan.FromMinutes(1)) md.Append(" to ").Append(last.ToString("yyyy-MM-dd HH:mm", s_inv));
        md.AppendLine(" UTC");
        foreach (var tool in records.GroupBy(r => (r.ToolVersion, r.GitCommit)).OrderByDescending(g => g.Count()))
        {
            md.Append("- Tool ").Append(Escape(tool.Key.ToolVersion)).Append(", commit ")
                .Append(tool.Key.GitCommit is { } c ? $"`{c[..Math.Min(12, c.Length)]}`" : "unknown")
                .Append(" (").Append(tool.Count()).AppendLine(tool.Count() == 1 ? " record)" : " records)");
        }
        foreach (var machine in records.GroupBy(r => r.Machine.Summary).OrderByDescending(g => g.Count()))
            md.Append("- Machine: ").Append(Escape(machine.Key)).Append(" (").Append(machine.Count()).AppendLine(machine.Count() == 1 ? " record)" : " records)");
        md.AppendLine();
    }

    /// <summary>
    /// Every throughput measurement in one table, across models (files) and engines, with the workbench ÷ llama.cpp ratio
    /// on the same file — written when the records span more than one model or engine (a side-by-side benchmark).
    /// </summary>
    static void AppendThroughput(StringBuilder md, IReadOnlyList<ThroughputRow> rows)
    {
        if (rows.Select(r => r.Model).Distinct().Count() < 2 && rows.Select(r => r.Engine).Distinct().Count() < 2) return;
        md.AppendLine("## Throughput, side by side").AppendLine();
        md.AppendLine("Decode: median tokens/s over the repetitions [slowest, fastest]; roofline: the machine's measured read bandwidth ÷ "
            + "the weight bytes one decode step reads; peak memory of the measured run (anonymous: allocated by the process; "
            + "RSS also counts mapped file pages).").AppendLine();
        md.AppendLine("| model | format | engine | bits/weight | prefill tok/s | decode tok/s | ms/token | % of roofline | ÷ llama.cpp | peak RSS | peak anon |");
        md.AppendLine("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            string F(double? v, string f) => v is double x && double.IsFinite(x) ? x.ToString(f, s_inv) : "—";
            md.Append("| ").Append(Escape(r.Model)).Append(" | ").Append(Escape(r.Label)).Append(" | ").Append(Escape(r.Engine))
                .Append(" | ").Append(F(r.Size?.BitsPerWeight, "0.00"))
                .Append(" | ").Append(F(r.Prefill?.Value, "0.00"))
                .Append(" | ").Append(F(r.Decode.Value, "0.00")).Append(r.Decode.Lower is double l && r.Decode.Upper is double u ? $" [{F(l, "0.00")}, {F(u, "0.00")}]" : "")
                .Append(" | ").Append(F(r.MsPerToken?.Value, "0"))
                .Append(" | ").Append(r.RooflineFraction is double f ? (100 * f).ToString("0", s_inv) + " %" : "—")
                .Append(" | ").Append(ThroughputSummary.RatioTo(r, rows, "llama.cpp") is double ratio ? ratio.ToString("0.00", s_inv) + "×" : "—")
                .Append(" | ").Append(r.PeakRss is long rss ? FormatBytes(rss) : "—")
                .Append(" | ").Append(r.PeakAnonymous is long anon ? FormatBytes(anon) : "—").AppendLine(" |");
        }
        md.AppendLine();
    }

    static void AppendHeadline(StringBuilder md, ModelTable table)
    {
        var columns = new List<(MetricColumn Column, string Header)>();
        foreach (var (metric, name, alwaysTask) in new[]
                 {
                     (MetricNames.Perplexity, "PPL", true), (MetricNames.KlMean, "KL mean", false),
                     (MetricNames.Top1Agreement, "top-1 agree", false), (MetricNames.Accuracy, "acc", true),
                     (MetricNames.DecodeTokensPerSecond, "decode tok/s", false),
                 })
        {
            var ofMetric = table.ColumnsOf(metric).ToList();
            foreach (var c in ofMetric)
                columns.Add((c, alwaysTask || ofMetric.Count > 1 ? $"{name} {c.Task}" : name));
        }
        md.Append("| format | policy | bits/weight | size |");
        foreach (var (_, header) in columns) md.Append(' ').Append(Escape(header)).Append(" |");
        md.AppendLine().Append("|---|---|---:|---:|");
        foreach (var _ in columns) md.Append("---:|");
        md.AppendLine();
        foreach (var row in table.Rows)
        {
            md.Append("| ").Append(row.IsBaseline ? $"**{Escape(row.Format)}** (baseline)" : Escape(row.Format))
                .Append(" | ").Append(Escape(row.Policy))
                .Append(" | ").Append(row.Size is { } s ? s.BitsPerWeight.ToString("0.00", s_inv) : "—")
                .Append(" | ").Append(row.Size is { } s2 ? FormatBytes(s2.Bytes) : "—").Append(" |");
            foreach (var (column, _) in columns)
                md.Append(' ').Append(FormatMetric(column.Metric, row.Get(column.Metric, column.Task))).Append(" |");
            md.AppendLine();
        }
        md.AppendLine().AppendLine("PPL: token perplexity. KL mean: mean KL divergence from the baseline's next-token distribution (nats). " +
            "top-1 agree: share of tokens whose most likely next token matches the baseline's. acc: multiple-choice accuracy " +
            "with its 95% interval. (n=k): mean over k seeds. —: not measured.").AppendLine();
    }

    static void AppendSizes(StringBuilder md, ModelTable table)
    {
        var sized = table.Rows.Where(r => r.Size is not null).ToList();
        if (sized.Count == 0) return;
        long? baseline = table.Baseline?.Size?.Bytes;
        md.AppendLine("### Sizes").AppendLine();
        md.AppendLine("| format | policy | bytes | size | binary size | bits/weight | vs baseline |");
        md.AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var r in sized)
        {
            long b = r.Size!.Bytes;
            md.Append("| ").Append(Escape(r.Format)).Append(" | ").Append(Escape(r.Policy))
                .Append(" | ").Append(b.ToString("N0", s_inv))
                .Append(" | ").Append(FormatBytes(b))
                .Append(" | ").Append(FormatBinaryBytes(b))
                .Append(" | ").Append(r.Size.BitsPerWeight.ToString("0.000", s_inv))
                .Append(" | ").Append(r.IsBaseline ? "baseline" : baseline is > 0 && b > 0 ? $"{(double)baseline / b:0.00}× smaller" : "—").AppendLine(" |");
        }
        md.AppendLine();
    }

    /// <summary>"3.46× smaller", "same", or "2.00× larger" relative to <paramref name="reference"/>.</summary>
    static string RelativeSize(double bytes, double reference) =>
        Math.Abs(bytes / reference - 1) < 0.005 ? "same" : bytes < reference ? $"{reference / bytes:0.00}× smaller" : $"{bytes / reference:0.00}× larger";

    static void AppendSizeTable(StringBuilder md, IReadOnlyList<SizeBar> sizes, ReportOptions options)
    {
        md.Append("## ").AppendLine(Escape(options.SizeTableTitle)).AppendLine();
        bool reference = options.SizeTableReferenceBytes is > 0;
        bool families = sizes.Any(s => s.Family is not null); // several models: say which family each is
        md.Append("| format |").Append(families ? " family |" : "").Append(" bytes | GB | GiB |")
            .AppendLine(reference ? $" vs {Escape(options.SizeTableReferenceLabel)} |" : "");
        md.Append("|---|").Append(families ? "---|" : "").Append("---:|---:|---:|").AppendLine(reference ? "---:|" : "");
        foreach (var s in sizes)
        {
            md.Append("| ").Append(Escape(s.Label)).Append(" | ");
            if (families) md.Append(Escape(s.Family ?? "")).Append(" | ");
            md.Append(s.Bytes.ToString("N0", s_inv))
                .Append(" | ").Append((s.Bytes / 1e9).ToString("0.00", s_inv))
                .Append(" | ").Append((s.Bytes / (double)(1L << 30)).ToString("0.00", s_inv)).Append(" |");
            if (reference) md.Append(' ').Append(s.Bytes <= 0 ? "—" : RelativeSize(s.Bytes, options.SizeTableReferenceBytes!.Value)).Append(" |");
            md.AppendLine();
        }
        md.AppendLine();
    }

    /// <summary>Metric text for a table cell: percentages for shares, intervals in brackets, "(n=k)" for seed means.</summary>
    internal static string FormatMetric(string metric, MetricSummary? m)
    {
        if (m is null) return "—";
        bool share = metric is MetricNames.Accuracy or MetricNames.AccuracyNorm or MetricNames.Top1Agreement;
        string F(double v) => !double.IsFinite(v) ? (double.IsNaN(v) ? "NaN" : v > 0 ? "∞" : "−∞")
            : share ? (100 * v).ToString("0.0", s_inv)
            : metric is MetricNames.DecodeTokensPerSecond or MetricNames.PrefillTokensPerSecond ? v.ToString("0.0", s_inv)
            : Math.Abs(v) < 10 ? v.ToString("G4", s_inv) : ChartStyle.FormatValue(v);
        var sb = new StringBuilder(F(m.Value));
        if (share && double.IsFinite(m.Value)) sb.Append('%');
        if (m.Lower is double lo && m.Upper is double hi) sb.Append(" [").Append(F(lo)).Append(", ").Append(F(hi)).Append(']');
        if (m.Count > 1) sb.Append(" (n=").Append(m.Count).Append(')');
        return sb.ToString();
    }

    static string FormatBytes(long bytes) =>
        bytes >= 1_000_000_000 ? $"{(bytes / 1e9).ToString("0.00", s_inv)} GB"
        : bytes >= 1_000_000 ? $"{(bytes / 1e6).ToString("0.00", s_inv)} MB"
        : $"{(bytes / 1e3).ToString("0.0", s_inv)} kB";

    static string FormatBinaryBytes(long bytes) =>
        bytes >= 1L << 30 ? $"{(bytes / (double)(1L << 30)).ToString("0.00", s_inv)} GiB"
        : bytes >= 1L << 20 ? $"{(bytes / (double)(1L << 20)).ToString("0.00", s_inv)} MiB"
        : $"{(bytes / 1024.0).ToString("0.0", s_inv)} KiB";

    static string Link(string fromDirectory, string path) =>
        Path.GetRelativePath(fromDirectory, path).Replace(Path.DirectorySeparatorChar, '/').Replace(" ", "%20");

    /// <summary>Escapes the characters that would break a Markdown table cell or start markup.</summary>
    static string Escape(string text) => text.Replace("\\", "\\\\").Replace("|", "\\|").Replace("\r", " ").Replace("\n", " ")
        .Replace("*", "\\*").Replace("<", "&lt;");
}
