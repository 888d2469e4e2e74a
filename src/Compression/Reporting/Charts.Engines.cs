// Charts (engines): decode tokens/s against bits per weight for every engine side by side, under the read-bandwidth
// roofline — the chart of a benchmark across files and engines (results/bench-8b).
using ScottPlot;

namespace Compression.Reporting;

public static partial class Charts
{
    /// <summary>
    /// One series per engine (points labelled by format, with the spread of the repetitions as error bars) and, when
    /// the rows carry a measured read bandwidth, the roofline tokens/s = bandwidth ÷ bytes read per token drawn as a
    /// curve over bits per weight: bytes per token are the parameters a decode step reads (the rows' own
    /// weight_bytes_per_token × 8 ÷ bits per weight, their median) × bits ÷ 8. Series: each engine's name, "roofline".
    /// </summary>
    public static ChartFile DecodeByEngine(IReadOnlyList<ThroughputRow> rows, string stem, string title)
    {
        var shown = rows.Where(r => r.Size is not null && double.IsFinite(r.Decode.Value)).ToList();
        var omitted = rows.Except(shown).Select(r => $"{r.Label} ({r.Engine})").ToList();
        var plot = ChartStyle.NewPlot(title, "bits per weight", "decode tokens/s");
        var series = new List<ChartSeries>();

        double? bandwidth = shown.Select(r => r.ReadBandwidth).Where(b => b is > 0).Max();
        var readParameters = shown.Where(r => r.WeightBytesPerToken is > 0)
            .Select(r => r.WeightBytesPerToken!.Value * 8.0 / r.Size!.BitsPerWeight).Order().ToList();
        double lo = 0.5, hi = 17;
        if (shown.Count > 0)
        {
            lo = Math.Max(0.5, shown.Min(r => r.Size!.BitsPerWeight) * 0.8);
            hi = shown.Max(r => r.Size!.BitsPerWeight) * 1.05;
        }
        if (bandwidth is double bw && readParameters.Count > 0)
        {
            double parameters = readParameters[readParameters.Count / 2];
            const int n = 64;
            double[] xs = Enumerable.Range(0, n).Select(i => lo + (hi - lo) * i / (n - 1)).ToArray();
            double[] ys = xs.Select(b => bw / (parameters * b / 8)).ToArray();
            var line = plot.Add.ScatterLine(xs, ys);
            line.LinePattern = LinePattern.Dotted;
            line.Color = ChartStyle.FrontColor;
            line.LegendText = $"roofline ({bw / 1e9:0.#} GB/s read)";
            series.Add(new ChartSeries("roofline", n));
            double top = shown.Count == 0 ? ys.Max() : shown.Max(r => r.Decode.Upper is double u && double.IsFinite(u) ? u : r.Decode.Value) * 1.6;
            plot.Axes.SetLimitsY(0, Math.Max(top, shown.Count == 0 ? 1 : 0));
            plot.Axes.SetLimitsX(lo, hi);
        }

        var engines = shown.Select(r => r.Engine).Distinct().Order(StringComparer.Ordinal).ToList();
        for (int e = 0; e < engines.Count; e++)
        {
            var points = shown.Where(r => r.Engine == engines[e]).ToList();
            var bounded = points.Where(r => r.Decode.Lower is double l && r.Decode.Upper is double u && double.IsFinite(l) && double.IsFinite(u)).ToList();
            if (bounded.Count > 0)
            {
                var bars = plot.Add.ErrorBar(bounded.Select(r => r.Size!.BitsPerWeight).ToArray(), bounded.Select(r => r.Decode.Value).ToArray(),
                    new double[bounded.Count]);
                bars.YErrorNegative = bounded.Select(r => r.Decode.Value - r.Decode.Lower!.Value).ToArray();
                bars.YErrorPositive = bounded.Select(r => r.Decode.Upper!.Value - r.Decode.Value).ToArray();
                bars.Color = ChartStyle.Palette(e);
            }
            var s = plot.Add.ScatterPoints(points.Select(r => r.Size!.BitsPerWeight).ToArray(), points.Select(r => r.Decode.Value).ToArray());
            s.MarkerSize = 10;
            s.MarkerShape = e == 0 ? MarkerShape.FilledCircle : MarkerShape.FilledSquare;
            s.Color = ChartStyle.Palette(e);
            s.LegendText = engines[e];
            series.Add(new ChartSeries(engines[e], points.Count, points.Select(r => r.Label).ToList()));
        }
        // Formats of both engines, and f16/bf16 or q8_0/int8, sit almost on one spot: labels go where they overprint nothing.
        var labelled = shown.OrderBy(r => engines.IndexOf(r.Engine)).ToList();
        AddPlacedLabels(plot, labelled.Select(r => (r.Size!.BitsPerWeight, r.Decode.Value)).ToList(), labelled.Select(r => r.Label).ToList(), (t, i) =>
        {
            t.FontSize = 12;
            t.Color = ChartStyle.Palette(engines.IndexOf(labelled[i].Engine));
        });
        AddOmittedNote(plot, omitted);
        if (bandwidth is null) plot.Axes.Margins(MarginFraction, MarginFraction);
        plot.ShowLegend(Alignment.UpperRight);
        return ChartStyle.Save(plot, stem, title, series, omitted);
    }
}
