// Charts (trade-offs): size vs quality with the Pareto front, and decode throughput vs bits per weight.
using ScottPlot;

namespace Compression.Reporting;

/// <summary>
/// The report charts. Each takes plain inputs, writes <c>stem.png</c> and <c>stem.svg</c> (atomically) and returns a
/// <see cref="ChartFile"/> naming the series drawn and their point counts.
/// </summary>
public static partial class Charts
{
    /// <summary>Fraction of the data range left empty on each side, so labels of edge points fit.</summary>
    const double MarginFraction = 0.12;

    /// <summary>
    /// Size vs quality: one labelled point per format, the baseline as a black diamond, 95% intervals as error bars,
    /// and the Pareto front (minimise size; minimise a loss or maximise an accuracy) as a dashed step line.
    /// A log y axis is used when the values span more than 8×. Series: "formats", "baseline", "Pareto front",
    /// and "95% interval" when any point has bounds.
    /// </summary>
    /// <param name="points">One per format; non-finite values are left out and listed in <see cref="ChartFile.Omitted"/>.</param>
    /// <param name="metricLabel">Y axis label ("perplexity", "KL divergence (nats)", "accuracy — arc_easy").</param>
    /// <param name="higherIsBetter">True for accuracy-like metrics.</param>
    /// <param name="stem">Output path without extension.</param>
    /// <param name="axis">Size on x as decimal GB, decimal MB or bits per weight.</param>
    /// <param name="title">Chart title; defaults to "Size vs {metricLabel}".</param>
    public static ChartFile SizeVsQuality(IReadOnlyList<QualityPoint> points, string metricLabel, bool higherIsBetter,
        string stem, SizeAxis axis = SizeAxis.Gigabytes, string? title = null)
    {
        title ??= $"Size vs {metricLabel}";
        var omitted = points.Where(p => !double.IsFinite(p.Value) || !double.IsFinite(X(p))).Select(p => p.Label).ToList();
        var shown = points.Where(p => double.IsFinite(p.Value) && double.IsFinite(X(p))).ToList();
        bool log = ChartStyle.WantsLog(shown.Select(p => p.Value));
        double Y(double v) => log ? Math.Log10(v) : v;
        double X(QualityPoint p) => axis switch
        {
            SizeAxis.Gigabytes => p.SizeBytes / 1e9,
            SizeAxis.Megabytes => p.SizeBytes / 1e6,
            _ => p.BitsPerWeight,
        };

        var plot = ChartStyle.NewPlot(title,
            axis switch { SizeAxis.Gigabytes => "size (GB)", SizeAxis.Megabytes => "size (MB)", _ => "bits per weight" },
            log ? $"{metricLabel} (log scale)" : metricLabel);
        var series = new List<ChartSeries>();

        var withBounds = shown.Where(p => p.Lower is double l && p.Upper is double u && double.IsFinite(l) && double.IsFinite(u)
            && (!log || l > 0)).ToList();
        if (withBounds.Count > 0)
        {
            var bars = plot.Add.ErrorBar(withBounds.Select(X).ToArray(), withBounds.Select(p => Y(p.Value)).ToArray(),
                new double[withBounds.Count]);
            bars.YErrorNegative = withBounds.Select(p => Y(p.Value) - Y(p.Lower!.Value)).ToArray();
            bars.YErrorPositive = withBounds.Select(p => Y(p.Upper!.Value) - Y(p.Value)).ToArray();
            bars.Color = Colors.Gray;
            bars.LegendText = "95% interval";
            series.Add(new ChartSeries("95% interval", withBounds.Count));
        }

        var front = ParetoFront.Select(shown, X, p => p.Value, higherIsBetter);
        if (front.Count > 0)
        {
            var line = plot.Add.Scatter(front.Select(X).ToArray(), front.Select(p => Y(p.Value)).ToArray());
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.MarkerSize = 0;
            line.Color = ChartStyle.FrontColor;
            line.LegendText = "Pareto front";
        }
        series.Add(new ChartSeries("Pareto front", front.Count, front.Select(p => p.Label).ToList()));

        AddLabelledPoints(plot, shown, X, p => Y(p.Value), p => p.IsBaseline, p => p.Label, series);
        if (log) ChartStyle.LogTicks(plot, shown.Min(p => p.Lower is > 0 ? Math.Min(p.Lower.Value, p.Value) : p.Value),
            shown.Max(p => p.Upper is double u && double.IsFinite(u) ? Math.Max(u, p.Value) : p.Value));
        AddOmittedNote(plot, omitted);
        plot.Axes.Margins(MarginFraction, MarginFraction);
        plot.ShowLegend(higherIsBetter ? Alignment.LowerRight : Alignment.UpperRight);
        return ChartStyle.Save(plot, stem, title, series, omitted);
    }

    /// <summary>
    /// Decode throughput (tokens/s) against bits per weight: one labelled point per format, the baseline as a black
    /// diamond, spread as error bars, and optionally the memory-bandwidth roofline. Series: "formats", "baseline",
    /// "spread" (when bounds are given) and "roofline" (when <paramref name="roofline"/> is given).
    /// </summary>
    public static ChartFile ThroughputVsBits(IReadOnlyList<ThroughputPoint> points, string stem, Roofline? roofline = null,
        string? title = null)
    {
        title ??= "Decode throughput vs bits per weight";
        var omitted = points.Where(p => !double.IsFinite(p.TokensPerSecond) || !double.IsFinite(p.BitsPerWeight)).Select(p => p.Label).ToList();
        var shown = points.Where(p => double.IsFinite(p.TokensPerSecond) && double.IsFinite(p.BitsPerWeight)).ToList();
        var plot = ChartStyle.NewPlot(title, "bits per weight", "decode tokens/s");
        var series = new List<ChartSeries>();

        var withBounds = shown.Where(p => p.Lower is double l && p.Upper is double u && double.IsFinite(l) && double.IsFinite(u)).ToList();
        if (withBounds.Count > 0)
        {
            var bars = plot.Add.ErrorBar(withBounds.Select(p => p.BitsPerWeight).ToArray(),
                withBounds.Select(p => p.TokensPerSecond).ToArray(), new double[withBounds.Count]);
            bars.YErrorNegative = withBounds.Select(p => p.TokensPerSecond - p.Lower!.Value).ToArray();
            bars.YErrorPositive = withBounds.Select(p => p.Upper!.Value - p.TokensPerSecond).ToArray();
            bars.Color = Colors.Gray;
            bars.LegendText = "spread";
            series.Add(new ChartSeries("spread", withBounds.Count));
        }

        if (roofline is not null && shown.Count > 0)
        {
            // tokens/s = bandwidth / (parameters × bits / 8), drawn over the range of the measured formats.
            double lo = Math.Max(0.5, shown.Min(p => p.BitsPerWeight) * 0.8), hi = shown.Max(p => p.BitsPerWeight) * 1.05;
            const int n = 64;
            double[] xs = Enumerable.Range(0, n).Select(i => lo + (hi - lo) * i / (n - 1)).ToArray();
            double[] ys = xs.Select(b => roofline.BandwidthBytesPerSecond / (roofline.ParameterCount * b / 8)).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LinePattern = LinePattern.Dotted;
            line.Color = ChartStyle.FrontColor;
            line.LegendText = $"roofline ({roofline.BandwidthBytesPerSecond / 1e9:0.#} GB/s)";
            series.Add(new ChartSeries("roofline", n));
            // The roofline is far above measured points at low bits; keep the measured points readable.
            double top = shown.Max(p => p.Upper is double u && double.IsFinite(u) ? u : p.TokensPerSecond) * 1.6;
            plot.Axes.SetLimitsY(0, top);
            plot.Axes.SetLimitsX(lo, hi);
        }

        AddLabelledPoints(plot, shown, p => p.BitsPerWeight, p => p.TokensPerSecond, p => p.IsBaseline, p => p.Label, series);
        AddOmittedNote(plot, omitted);
        if (roofline is null) plot.Axes.Margins(MarginFraction, MarginFraction);
        plot.ShowLegend(Alignment.UpperRight);
        return ChartStyle.Save(plot, stem, title, series, omitted);
    }

    /// <summary>Draws non-baseline points ("formats") and baseline points ("baseline"), each labelled, and records both series.</summary>
    static void AddLabelledPoints<T>(Plot plot, IReadOnlyList<T> points, Func<T, double> x, Func<T, double> y,
        Func<T, bool> isBaseline, Func<T, string> label, List<ChartSeries> series)
    {
        var others = points.Where(p => !isBaseline(p)).ToList();
        var baseline = points.Where(isBaseline).ToList();
        if (others.Count > 0)
        {
            var s = plot.Add.ScatterPoints(others.Select(x).ToArray(), others.Select(y).ToArray());
            s.MarkerSize = 10;
            s.MarkerShape = MarkerShape.FilledCircle;
            s.Color = ChartStyle.Palette(0);
            s.LegendText = "formats";
        }
        series.Add(new ChartSeries("formats", others.Count, others.Select(label).ToList()));
        if (baseline.Count > 0)
        {
            var b = plot.Add.ScatterPoints(baseline.Select(x).ToArray(), baseline.Select(y).ToArray());
            b.MarkerSize = 14;
            b.MarkerShape = MarkerShape.FilledDiamond;
            b.Color = ChartStyle.BaselineColor;
            b.LegendText = "baseline";
        }
        series.Add(new ChartSeries("baseline", baseline.Count, baseline.Select(label).ToList()));

        // Neighbouring formats often sit close together: place labels where they overprint nothing.
        if (points.Count == 0) return;
        var xy = points.Select(p => (x(p), y(p))).ToList();
        var texts = points.Select(p => isBaseline(p) && !label(p).Contains("baseline", StringComparison.Ordinal) ? $"{label(p)} (baseline)" : label(p)).ToList();
        AddPlacedLabels(plot, xy, texts, (t, i) =>
        {
            t.FontSize = 13;
            t.Bold = isBaseline(points[i]);
            t.Color = isBaseline(points[i]) ? ChartStyle.BaselineColor : Colors.DarkSlateGray;
        });
    }

    /// <summary>Labels <paramref name="xy"/> with <paramref name="texts"/> where they overprint nothing
    /// (<see cref="ChartLabels"/>), inside the plot's limits when set, else the points' range with the usual margin;
    /// <paramref name="style"/> sets each text's font and colour.</summary>
    static void AddPlacedLabels(Plot plot, IReadOnlyList<(double X, double Y)> xy, IReadOnlyList<string> texts, Action<ScottPlot.Plottables.Text, int> style)
    {
        if (xy.Count == 0) return;
        var limits = plot.Axes.GetLimits();
        bool explicitLimits = plot.Axes.LimitsHaveBeenSet;
        (double, double) Range(IEnumerable<double> v, double lo, double hi)
        {
            if (explicitLimits) return (lo, hi);
            double min = v.Min(), max = v.Max(), pad = max > min ? (max - min) * MarginFraction : 1;
            return (min - pad, max + pad);
        }
        var placements = ChartLabels.Place(xy, texts,
            Range(xy.Select(p => p.X), limits.Left, limits.Right),
            Range(xy.Select(p => p.Y), limits.Bottom, limits.Top),
            ChartStyle.Width - 140, ChartStyle.Height - 110);
        for (int i = 0; i < xy.Count; i++)
        {
            var t = plot.Add.Text(texts[i], xy[i].X, xy[i].Y);
            style(t, i);
            t.Alignment = placements[i].Alignment;
            t.OffsetX = placements[i].OffsetX;
            t.OffsetY = placements[i].OffsetY;
        }
    }

    /// <summary>Notes the points that could not be drawn (infinite or NaN values) in the chart's corner.</summary>
    static void AddOmittedNote(Plot plot, IReadOnlyList<string> omitted)
    {
        if (omitted.Count == 0) return;
        var note = plot.Add.Annotation($"not finite, not drawn: {string.Join(", ", omitted)}", Alignment.LowerLeft);
        note.LabelFontSize = 12;
    }
}
