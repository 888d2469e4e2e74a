// Charts (training curves): validation loss or KL vs step of quantization-aware training runs, with the post-training level.
using ScottPlot;

namespace Compression.Reporting;

/// <summary>One validation pass of a training run.</summary>
public sealed record CurvePoint(int Step, double Loss, double? Kl);

/// <summary>
/// A training run's validation curve. Step 0 is the model before training — for QAT, the post-training (round-to-nearest)
/// quantization — and <see cref="BaselineLoss"/>, when known, the float model's loss on the same windows.
/// </summary>
public sealed record TrainingCurve(string Label, IReadOnlyList<CurvePoint> Points, double? BaselineLoss = null, double? ElapsedSeconds = null);

public static partial class Charts
{
    /// <summary>
    /// Validation <paramref name="metric"/> ("loss" or "kl") vs optimizer step, one line per run; a dashed line at each run's
    /// step-0 value (the post-training level it started from) and, for loss, a black line at the float baseline. KL is
    /// drawn on a log scale when it spans more than 8×. Files: <c>{stem}.png/.svg</c>; series named by run label.
    /// </summary>
    public static ChartFile TrainingCurves(IReadOnlyList<TrainingCurve> curves, string metric, string stem, string title)
    {
        bool kl = metric == "kl";
        var values = curves.SelectMany(c => c.Points).Select(p => kl ? p.Kl : p.Loss).OfType<double>().Where(v => v > 0 && double.IsFinite(v)).ToList();
        if (values.Count == 0) throw new ArgumentException($"no run has a validation {metric}");
        bool log = kl && ChartStyle.WantsLog(values);
        var plot = ChartStyle.NewPlot(title, "optimizer step",
            kl ? "validation KL(teacher ‖ student), nats/token" + (log ? " (log scale)" : "") : "validation cross-entropy, nats/token");
        double Y(double v) => log ? Math.Log10(v) : v;
        var series = new List<ChartSeries>();
        int colour = 0;
        var drawn = new HashSet<double>();
        foreach (var curve in curves)
        {
            var pts = curve.Points.Where(p => (kl ? p.Kl : p.Loss) is double v && v > 0 && double.IsFinite(v)).OrderBy(p => p.Step).ToList();
            if (pts.Count == 0) continue;
            var color = ChartStyle.Palette(colour++);
            var line = plot.Add.Scatter(pts.Select(p => (double)p.Step).ToArray(), pts.Select(p => Y(kl ? p.Kl!.Value : p.Loss)).ToArray());
            line.LegendText = curve.Label;
            line.Color = color;
            line.MarkerSize = 5;
            line.LineWidth = 2;
            series.Add(new ChartSeries(curve.Label, pts.Count));
            // Runs that start from the same post-training model share one step-0 level: draw it once.
            if (pts[0].Step == 0 && drawn.Add(Y(kl ? pts[0].Kl!.Value : pts[0].Loss)))
            {
                var ptq = plot.Add.HorizontalLine(Y(kl ? pts[0].Kl!.Value : pts[0].Loss));
                ptq.Color = color.WithAlpha(0.6);
                ptq.LinePattern = LinePattern.Dashed;
                ptq.LineWidth = 1;
                ptq.LegendText = $"step 0 = post-training quantization ({string.Join(" ", curve.Label.Split(' ').Skip(1))})";
                series.Add(new ChartSeries(ptq.LegendText, 1));
            }
        }
        if (!kl && curves.Select(c => c.BaselineLoss).OfType<double>().FirstOrDefault() is var baseline && baseline > 0)
        {
            var line = plot.Add.HorizontalLine(baseline);
            line.Color = ChartStyle.BaselineColor;
            line.LineWidth = 1.5f;
            line.LegendText = "float baseline";
            series.Add(new ChartSeries("float baseline", 1));
        }
        if (log) ChartStyle.LogTicks(plot, values.Min(), values.Max());
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Right);
        return ChartStyle.Save(plot, stem, title, series);
    }
}
