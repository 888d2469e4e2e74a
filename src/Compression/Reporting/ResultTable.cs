// ResultTable: records grouped into one row per (model, format, policy) — the shape the report tables and charts read.
using Compression.Quantization;

namespace Compression.Reporting;

/// <summary>A metric of one task ("acc" of "arc_easy").</summary>
public sealed record MetricColumn(string Metric, string Task);

/// <summary>
/// A metric in a row. With one record it is that record's value and interval; with several (seeds) it is their mean,
/// with no interval, and <paramref name="Count"/> says how many were averaged.
/// </summary>
public sealed record MetricSummary(double Value, double? Lower, double? Upper, int Count);

/// <summary>One format/policy of one model with every metric measured on it.</summary>
public sealed record ResultRow(string Model, string Format, string Policy, string Label, SizeInfo? Size, bool IsBaseline,
    IReadOnlyDictionary<MetricColumn, MetricSummary> Metrics)
{
    /// <summary>The metric <paramref name="metric"/> of task <paramref name="task"/>, or null when not measured.</summary>
    public MetricSummary? Get(string metric, string task) => Metrics.GetValueOrDefault(new MetricColumn(metric, task));
}

/// <summary>All rows of one model, baseline first then by bits per weight descending, and the metric columns present.</summary>
public sealed record ModelTable(string Model, long ParameterCount, IReadOnlyList<ResultRow> Rows, IReadOnlyList<MetricColumn> Columns)
{
    /// <summary>The baseline row (the one others are compared with), or null when the model has no rows.</summary>
    public ResultRow? Baseline => Rows.FirstOrDefault(r => r.IsBaseline);

    /// <summary>Columns of one metric, ordered by task name.</summary>
    public IEnumerable<MetricColumn> ColumnsOf(string metric) => Columns.Where(c => c.Metric == metric);
}

/// <summary>Groups records into <see cref="ModelTable"/>s.</summary>
public static class ResultTable
{
    /// <summary>Metrics in the order tables show them; other metrics follow alphabetically.</summary>
    public static IReadOnlyList<string> MetricOrder { get; } =
    [
        MetricNames.Perplexity, MetricNames.BitsPerByte, MetricNames.KlMean, MetricNames.KlMedian, MetricNames.KlP99,
        MetricNames.Top1Agreement, MetricNames.Accuracy, MetricNames.AccuracyNorm, MetricNames.PrefillTokensPerSecond,
        MetricNames.DecodeTokensPerSecond, MetricNames.DecodeMsPerToken, MetricNames.RooflineFraction, MetricNames.PeakResidentBytes,
        MetricNames.PeakAnonymousBytes,
    ];

    /// <summary>
    /// One table per model (ordered by name). The baseline row is the one whose format is <paramref name="baselineFormat"/>
    /// when given (first policy alphabetically), else the row with the most bits per weight, else the first plain-float format.
    /// </summary>
    public static IReadOnlyList<ModelTable> Build(IEnumerable<ResultRecord> records, string? baselineFormat = null)
    {
        var tables = new List<ModelTable>();
        foreach (var model in records.GroupBy(r => r.Model.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // A method other than round-to-nearest is its own row, shown as "policy + method" (and in chart labels); so is
            // another engine, "policy @ engine", beside the workbench's row of the same format (unless the task name carries it).
            var rows = model.GroupBy(r => (r.Format, Policy: (r.Method is null or ResultKey.Rtn ? r.Policy : $"{r.Policy} + {r.Method}")
                                                          + (r.Key.EngineImplied ? "" : $" @ {r.Engine}")))
                .Select(g => MakeRow(model.Key, g.Key.Format, g.Key.Policy, g.ToList())).ToList();
            int baseline = FindBaseline(rows, baselineFormat);
            if (baseline >= 0) rows[baseline] = rows[baseline] with { IsBaseline = true };
            rows = rows.OrderByDescending(r => r.IsBaseline)
                .ThenByDescending(r => r.Size?.BitsPerWeight ?? double.NegativeInfinity)
                .ThenBy(r => r.Format, StringComparer.Ordinal).ThenBy(r => r.Policy, StringComparer.Ordinal).ToList();
            var columns = rows.SelectMany(r => r.Metrics.Keys).Distinct()
                .OrderBy(c => MetricRank(c.Metric)).ThenBy(c => c.Metric, StringComparer.Ordinal).ThenBy(c => c.Task, StringComparer.Ordinal)
                .ToList();
            long parameters = model.Max(r => r.Model.ParameterCount);
            tables.Add(new ModelTable(model.Key, parameters, rows, columns));
        }
        return tables;
    }

    static ResultRow MakeRow(string model, string format, string policy, List<ResultRecord> group)
    {
        var size = group.Where(r => r.Size is not null).OrderByDescending(r => r.TimeUtc).Select(r => r.Size).FirstOrDefault();
        var metrics = new Dictionary<MetricColumn, MetricSummary>();
        foreach (var byColumn in group.SelectMany(r => r.Metrics.Select(m => (Column: new MetricColumn(m.Key, r.Task.Name), m.Value)))
                     .GroupBy(x => x.Column))
        {
            var values = byColumn.Select(x => x.Value).ToList();
            metrics[byColumn.Key] = values.Count == 1
                ? new MetricSummary(values[0].Value, values[0].Lower, values[0].Upper, 1)
                : new MetricSummary(values.Average(v => v.Value), null, null, values.Count);
        }
        string label = policy == "default" ? format : policy.StartsWith("default + ", StringComparison.Ordinal) ? $"{format} ({policy[10..]})" : $"{format} ({policy})";
        // Another engine's row: "q4_0 @ llama.cpp" for its default policy (and for llama.cpp's own file types, whose policy is llama.cpp's).
        int at = policy.IndexOf(" @ ", StringComparison.Ordinal);
        if (at > 0 && (policy[..at] == "default" || policy[..at] == policy[(at + 3)..])) label = $"{format} @ {policy[(at + 3)..]}";
        return new ResultRow(model, format, policy, label, size, false, metrics);
    }

    static int FindBaseline(List<ResultRow> rows, string? baselineFormat)
    {
        if (baselineFormat is not null)
        {
            return rows.Select((r, i) => (r, i))
                .Where(x => string.Equals(x.r.Format, baselineFormat, StringComparison.OrdinalIgnoreCase))
                .OrderBy(x => x.r.Policy, StringComparer.Ordinal).Select(x => x.i).DefaultIfEmpty(-1).First();
        }
        int best = -1;
        // The workbench's own rows are the reference when there are any: another engine's file of the same weights
        // (an ONNX folder with its rotary caches) may be larger without being the baseline.
        bool anyOwn = rows.Any(r => !r.Policy.Contains(" @ "));
        for (int i = 0; i < rows.Count; i++)
        {
            if (anyOwn && rows[i].Policy.Contains(" @ ")) continue;
            if (rows[i].Size is { } s && (best < 0 || s.BitsPerWeight > rows[best].Size!.BitsPerWeight)) best = i;
        }
        if (best >= 0) return best;
        return rows.FindIndex(r => FormatRegistry.TryGet(r.Format)?.IsFloat == true);
    }

    static int MetricRank(string metric)
    {
        int i = MetricOrder.ToList().IndexOf(metric);
        return i < 0 ? int.MaxValue : i;
    }
}
