// Charts (sensitivity): KL divergence with one tensor quantized at a time, as a layer × projection heatmap per format.
using ScottPlot;

namespace Compression.Reporting;

/// <summary>One cell of a sensitivity heatmap: a block linear ("model.layers.3.mlp.down_proj.weight"), a format and its KL.</summary>
public sealed record SensitivityCell(string Tensor, string Format, double KlMean);

public static partial class Charts
{
    /// <summary>
    /// Per format (in order of first appearance): a heatmap with x = projection (q, k, v, o, gate, up, down), y = layer,
    /// colour = log10 of the mean KL divergence measured with only that tensor quantized, each cell labelled with its KL.
    /// Names that are not block linears are left out. Files are <c>{directory}/{stemPrefix}-{format}.png/.svg</c>.
    /// </summary>
    public static IReadOnlyList<ChartFile> SensitivityHeatmaps(IReadOnlyList<SensitivityCell> cells, string directory, string stemPrefix = "sensitivity")
    {
        var files = new List<ChartFile>();
        foreach (var format in cells.GroupBy(c => c.Format))
        {
            var parsed = format.Select(c => (Cell: c, Where: ParseLinear(c.Tensor))).Where(x => x.Where is not null)
                .Select(x => (x.Cell, Layer: x.Where!.Value.Layer, Projection: x.Where.Value.Projection)).ToList();
            if (parsed.Count == 0) continue;
            var projections = parsed.Select(p => p.Projection).Distinct()
                .OrderBy(ProjectionRank).ThenBy(p => p, StringComparer.Ordinal).ToList();
            int layers = parsed.Max(p => p.Layer) + 1, cols = projections.Count;
            const double floor = 1e-7; // KL at or below this (or negative from rounding) is drawn as the floor
            var data = new double[layers, cols];
            for (int r = 0; r < layers; r++)
                for (int c = 0; c < cols; c++) data[r, c] = double.NaN;
            string title = $"Sensitivity: KL divergence with one tensor at {format.Key}, the rest at the baseline";
            var plot = ChartStyle.NewPlot(title, "projection", "layer");
            foreach (var (cell, layer, projection) in parsed)
            {
                double kl = Math.Max(floor, cell.KlMean);
                // Row 0 of the intensities is drawn at the top: layer 0 goes to the last row so layers count upwards.
                data[layers - 1 - layer, projections.IndexOf(projection)] = Math.Log10(kl);
            }
            var heatmap = plot.Add.Heatmap(data);
            heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
            heatmap.Rectangle = new CoordinateRect(-0.5, cols - 0.5, -0.5, layers - 0.5);
            var bar = plot.Add.ColorBar(heatmap);
            bar.Label = "log10 KL (nats)";
            foreach (var (cell, layer, projection) in parsed)
            {
                var t = plot.Add.Text(ChartStyle.FormatValue(cell.KlMean), projections.IndexOf(projection), layer);
                t.Alignment = Alignment.MiddleCenter;
                t.FontSize = 12;
                t.Color = Colors.White;
            }
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, cols).Select(i => (double)i).ToArray(), projections.ToArray());
            plot.Axes.Left.SetTicks(Enumerable.Range(0, layers).Select(i => (double)i).ToArray(), Enumerable.Range(0, layers).Select(i => i.ToString()).ToArray());
            plot.Axes.SetLimits(-0.5, cols - 0.5, -0.5, layers - 0.5);
            string stem = Path.Combine(directory, $"{stemPrefix}-{ResultKey.Slug(format.Key)}");
            files.Add(ChartStyle.Save(plot, stem, title, [new ChartSeries(format.Key, parsed.Count)]));
        }
        return files;
    }

    /// <summary>Layer and projection ("q_proj") of a block linear's name, or null for anything else.</summary>
    static (int Layer, string Projection)? ParseLinear(string tensor)
    {
        var m = System.Text.RegularExpressions.Regex.Match(tensor, @"^model\.layers\.(\d+)\.(?:self_attn|mlp)\.([a-z_]+?)(?:_proj)?\.weight$");
        return m.Success ? (int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value) : null;
    }
}
