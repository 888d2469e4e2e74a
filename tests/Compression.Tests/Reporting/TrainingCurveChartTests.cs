// TrainingCurveChartTests: the QAT training-curve charts — one line per run, the shared step-0 (post-training) level
// drawn once, the float baseline on the loss chart — and the report's training-runs table.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class TrainingCurveChartTests
{
    private static readonly TrainingCurve[] Curves =
    [
        new("qat q1_0 pure", [new(0, 1.84, 0.59), new(25, 1.30, 0.12), new(50, 1.24, 0.07)], BaselineLoss: 1.17, ElapsedSeconds: 600),
        new("qat+kd q1_0 pure", [new(0, 1.84, 0.59), new(25, 1.21, 0.05), new(50, 1.19, 0.02)], BaselineLoss: 1.17, ElapsedSeconds: 660),
    ];

    [Fact]
    public void Loss_chart_has_each_run_one_post_training_level_and_the_baseline()
    {
        string dir = TestPaths.NewTempDir("training-curves");
        var chart = Charts.TrainingCurves(Curves, "loss", Path.Combine(dir, "loss"), "loss vs step");
        ChartFiles.AssertFiles(chart);
        Assert.Equal(3, chart.SeriesNamed("qat q1_0 pure")!.PointCount);
        Assert.Equal(3, chart.SeriesNamed("qat+kd q1_0 pure")!.PointCount);
        Assert.Single(chart.Series, s => s.Name.StartsWith("step 0 = post-training quantization (q1_0 pure)"));
        Assert.NotNull(chart.SeriesNamed("float baseline"));
    }

    [Fact]
    public void Kl_chart_has_no_baseline_line_and_refuses_runs_without_kl()
    {
        string dir = TestPaths.NewTempDir("training-curves");
        var chart = Charts.TrainingCurves(Curves, "kl", Path.Combine(dir, "kl"), "kl vs step");
        Assert.Null(chart.SeriesNamed("float baseline"));
        Assert.Equal(3, chart.SeriesNamed("qat+kd q1_0 pure")!.PointCount);
        Assert.Throws<ArgumentException>(() => Charts.TrainingCurves([new TrainingCurve("x", [new(0, 1, null)])], "kl", Path.Combine(dir, "none"), "t"));
    }

    [Fact]
    public void Report_lists_each_training_run_with_its_step_0_and_final_levels()
    {
        string md = ReportWriter.Render([], [], [], TestPaths.NewTempDir("training-report"), new ReportOptions { TrainingCurves = Curves });
        Assert.Contains("| qat+kd q1_0 pure | 50 | 11.0 min | 1.1700 | 1.8400 | 1.1900 | 0.5900 | 0.0200 |", md);
    }
}
