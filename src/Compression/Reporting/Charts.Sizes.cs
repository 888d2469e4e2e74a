// Charts (sizes): model size per format as horizontal bars with the FP16 reference line.
using ScottPlot;

namespace Compression.Reporting;

public static partial class Charts
{
    /// <summary>Llama 3.1 8B in FP16 as quoted in the seed comparison: 16.07 GB.</summary>
    public const double Llama31_8BFp16Bytes = 16.07e9;

    /// <summary>
    /// Model size per format: one horizontal bar per entry (in the given order, top to bottom) labelled with its size in
    /// decimal GB, and a vertical reference line (by default at 16.07 GB, labelled "FP16 16.07 GB").
    /// Series: "sizes" (one point per bar) and the reference line under its label (one point).
    /// </summary>
    /// <param name="bars">(label, bytes) per format, e.g. from the size table of Llama 3.1 8B.</param>
    /// <param name="stem">Output path without extension.</param>
    /// <param name="referenceBytes">Where the reference line goes; null for none.</param>
    /// <param name="referenceLabel">The reference line's label.</param>
    /// <param name="title">Chart title.</param>
    public static ChartFile ModelSizes(IReadOnlyList<SizeBar> bars, string stem, double? referenceBytes = Llama31_8BFp16Bytes,
        string referenceLabel = "FP16 16.07 GB", string title = "Llama 3.1 8B size per format")
    {
        if (bars.Count == 0) throw new ArgumentException("no sizes to draw", nameof(bars));
        var plot = ChartStyle.NewPlot(title, "size (GB)", "");
        int n = bars.Count;
        var drawn = new List<Bar>();
        for (int i = 0; i < n; i++)
        {
            double gb = bars[i].Bytes / 1e9;
            drawn.Add(new Bar
            {
                Position = n - 1 - i,   // first entry on top
                Value = gb,
                FillColor = ChartStyle.Palette(i),
                Label = $"{gb:0.00} GB",
                Orientation = Orientation.Horizontal,
            });
        }
        var barPlot = plot.Add.Bars(drawn);
        barPlot.Horizontal = true;
        barPlot.ValueLabelStyle.FontSize = 14;
        plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(i => (double)(n - 1 - i)).ToArray(), bars.Select(b => b.Label).ToArray());
        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        var series = new List<ChartSeries> { new("sizes", n, bars.Select(b => b.Label).ToList()) };

        double max = bars.Max(b => b.Bytes) / 1e9;
        if (referenceBytes is double rb)
        {
            var line = plot.Add.VerticalLine(rb / 1e9);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 2;
            line.Color = ChartStyle.FrontColor;
            line.LabelText = referenceLabel;
            line.LabelFontSize = 14;
            // Label on the bottom axis: at the top it would cover the title.
            series.Add(new ChartSeries(referenceLabel, 1));
            max = Math.Max(max, rb / 1e9);
        }
        // Room on the right for the value labels of the longest bar.
        plot.Axes.SetLimitsX(0, max * 1.18);
        plot.Axes.SetLimitsY(-0.6, n - 0.4);
        return ChartStyle.Save(plot, stem, title, series, null, ChartStyle.Width, Math.Max(360, 120 + 52 * n));
    }
}
