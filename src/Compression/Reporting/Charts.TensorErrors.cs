// Charts (per-tensor error): relative quantization error by layer, one series per projection, one chart per format.
using ScottPlot;

using Compression.Quantization;

namespace Compression.Reporting;

public static partial class Charts
{
    /// <summary>Projection order in the legend; names are matched with a trailing "_proj" ignored.</summary>
    public static IReadOnlyList<string> ProjectionOrder { get; } = ["q", "k", "v", "o", "gate", "up", "down"];

    /// <summary>
    /// Per-tensor quantization error: for each format (in order of first appearance) one chart with x = layer,
    /// y = relative error (log scale when it spans more than 8×), one line per projection (q, k, v, o, gate, up, down;
    /// other names after them). Files are <c>{directory}/{stemPrefix}-{format}.png/.svg</c>. Series are named by projection.
    /// </summary>
    public static IReadOnlyList<ChartFile> TensorErrors(IReadOnlyList<TensorError> errors, string directory,
        string stemPrefix = "tensor-error")
    {
        var files = new List<ChartFile>();
        foreach (var format in errors.GroupBy(e => e.Format))
        {
            string title = $"Relative quantization error by layer — {format.Key}";
            var finite = format.Where(e => double.IsFinite(e.RelativeError)).ToList();
            var omitted = format.Where(e => !double.IsFinite(e.RelativeError)).Select(e => $"L{e.Layer} {e.Projection}").ToList();
            bool log = ChartStyle.WantsLog(finite.Select(e => e.RelativeError));
            var plot = ChartStyle.NewPlot(title, "layer", log ? "relative error ‖W−Ŵ‖/‖W‖ (log scale)" : "relative error ‖W−Ŵ‖/‖W‖");
            var series = new List<ChartSeries>();
            int colour = 0;
            foreach (var proj in finite.GroupBy(e => e.Projection).OrderBy(g => ProjectionRank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal))
            {
                var pts = proj.OrderBy(e => e.Layer).ToList();
                var s = plot.Add.Scatter(pts.Select(e => (double)e.Layer).ToArray(),
                    pts.Select(e => log ? Math.Log10(e.RelativeError) : e.RelativeError).ToArray());
                s.LegendText = proj.Key;
                s.Color = ChartStyle.Palette(colour++);
                s.MarkerSize = 6;
                s.LineWidth = 1.5f;
                series.Add(new ChartSeries(proj.Key, pts.Count));
            }
            if (log) ChartStyle.LogTicks(plot, finite.Min(e => e.RelativeError), finite.Max(e => e.RelativeError));
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
            AddOmittedNote(plot, omitted);
            plot.ShowLegend(Edge.Right);
            string stem = Path.Combine(directory, $"{stemPrefix}-{ResultKey.Slug(format.Key)}");
            files.Add(ChartStyle.Save(plot, stem, title, series, omitted));
        }
        return files;
    }

    static int ProjectionRank(string name)
    {
        string n = name.EndsWith("_proj", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name;
        int i = ProjectionOrder.ToList().FindIndex(p => string.Equals(p, n, StringComparison.OrdinalIgnoreCase));
        return i < 0 ? int.MaxValue : i;
    }
}
