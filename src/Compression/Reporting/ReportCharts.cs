// ReportCharts: turns result records (plus optional size and per-tensor tables) into the report's chart files.
namespace Compression.Reporting;

/// <summary>Charts written for a report, and the charts that could not be drawn (with the reason).</summary>
public sealed record ChartSet(IReadOnlyList<ChartFile> Charts, IReadOnlyList<string> Problems);

/// <summary>Draws every chart the records support; one chart failing does not stop the others.</summary>
public static class ReportCharts
{
    /// <summary>
    /// Per model: size vs perplexity, vs KL mean and vs accuracy (one chart per task that measured the metric), and
    /// decode throughput vs bits per weight; then the model-size bars of <see cref="ReportOptions.SizeTable"/> and the
    /// per-tensor error charts of <see cref="ReportOptions.TensorErrors"/>. Files go to <paramref name="directory"/> as
    /// "{model}-size-vs-{metric}-{task}", "{model}-throughput-vs-bits", "model-sizes", "tensor-error-{format}".
    /// Rows without a measured size are left out of size charts. The baseline is left out of KL and agreement charts
    /// (it is compared with itself).
    /// </summary>
    public static ChartSet WriteAll(IReadOnlyList<ResultRecord> records, string directory, ReportOptions? options = null)
    {
        options ??= new ReportOptions();
        var charts = new List<ChartFile>();
        var problems = new List<string>();
        if (ChartStyle.FontProblem is { } fontProblem) problems.Add(fontProblem);
        void Try(string what, Func<IEnumerable<ChartFile>> draw)
        {
            try { charts.AddRange(draw()); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                problems.Add($"chart '{what}' could not be drawn: {e.GetType().Name}: {e.Message}");
            }
        }

        foreach (var table in ResultTable.Build(records, options.BaselineFormat))
        {
            string slug = ResultKey.Slug(table.Model);
            var sized = table.Rows.Where(r => r.Size is not null).ToList();
            SizeAxis axis = options.SizeAxis ?? (sized.Count > 0 && sized.Max(r => r.Size!.Bytes) >= 1e9 ? SizeAxis.Gigabytes : SizeAxis.Megabytes);
            foreach (var (metric, label) in new[] { (MetricNames.Perplexity, "perplexity"), (MetricNames.KlMean, "KL divergence, mean (nats)"),
                         (MetricNames.Top1Agreement, "top-1 agreement"), (MetricNames.Accuracy, "accuracy") })
            {
                foreach (var column in table.ColumnsOf(metric))
                {
                    bool selfCompared = metric is MetricNames.KlMean or MetricNames.Top1Agreement;
                    var points = sized.Where(r => !(selfCompared && r.IsBaseline))
                        .Select(r => (Row: r, M: r.Get(column.Metric, column.Task)))
                        .Where(x => x.M is not null)
                        .Select(x => new QualityPoint(x.Row.Label, x.Row.Size!.Bytes, x.Row.Size.BitsPerWeight, x.M!.Value,
                            x.M.Lower, x.M.Upper, x.Row.IsBaseline))
                        .ToList();
                    if (points.Count == 0) continue;
                    string stem = Path.Combine(directory, $"{slug}-size-vs-{ResultKey.Slug(metric)}-{ResultKey.Slug(column.Task)}");
                    string title = $"{table.Model}: size vs {label} — {column.Task}";
                    Try(title, () => [Charts.SizeVsQuality(points, $"{label} ({column.Task})", MetricNames.HigherIsBetter(metric), stem, axis, title)]);
                }
            }
            foreach (var column in table.ColumnsOf(MetricNames.DecodeTokensPerSecond))
            {
                var points = sized.Select(r => (Row: r, M: r.Get(column.Metric, column.Task))).Where(x => x.M is not null)
                    .Select(x => new ThroughputPoint(x.Row.Label, x.Row.Size!.BitsPerWeight, x.M!.Value, x.M.Lower, x.M.Upper, x.Row.IsBaseline))
                    .ToList();
                if (points.Count == 0) continue;
                string stem = Path.Combine(directory, $"{slug}-throughput-vs-bits-{ResultKey.Slug(column.Task)}");
                string title = $"{table.Model}: decode throughput vs bits per weight";
                // Without a roofline in the options, the one the records measured (compress bench --bandwidth) is drawn.
                var roofline = options.Roofline ?? (sized.Select(r => r.Get(MetricNames.ReadBandwidth, column.Task)?.Value).Max() is double bw
                    ? new Roofline(bw, table.ParameterCount) : null);
                Try(title, () => [Charts.ThroughputVsBits(points, stem, roofline, title)]);
            }
        }
        var throughput = ThroughputSummary.Rows(records);
        if (throughput.Select(r => r.Model).Distinct().Count() > 1 || throughput.Select(r => r.Engine).Distinct().Count() > 1)
        {
            const string title = "Decode throughput vs bits per weight, by engine";
            Try(title, () => [Charts.DecodeByEngine(throughput, Path.Combine(directory, "throughput-by-engine"), title)]);
        }
        if (options.TrainingCurves is { Count: > 0 } curves)
        {
            Try("training curves (loss)", () => [Charts.TrainingCurves(curves, "loss", Path.Combine(directory, "training-curve-loss"),
                "Quantization-aware training: validation loss vs step")]);
            if (curves.Any(c => c.Points.Any(p => p.Kl is not null)))
                Try("training curves (KL)", () => [Charts.TrainingCurves(curves, "kl", Path.Combine(directory, "training-curve-kl"),
                    "Quantization-aware training: validation KL from the teacher vs step")]);
        }
        if (options.SizeTable is { Count: > 0 } sizes)
        {
            Try(options.SizeTableTitle, () => [Charts.ModelSizes(sizes, Path.Combine(directory, "model-sizes"),
                options.SizeTableReferenceBytes, options.SizeTableReferenceLabel, options.SizeTableTitle)]);
        }
        if (options.TensorErrors is { Count: > 0 } errors)
            Try("per-tensor error", () => Charts.TensorErrors(errors, directory));
        return new ChartSet(charts, problems);
    }
}
