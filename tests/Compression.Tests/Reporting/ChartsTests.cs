// ChartsTests: every chart is written as a valid PNG and SVG with the expected series and point counts.
using Compression.Reporting;

using Compression.Quantization;

namespace Compression.Tests.Reporting;

public class ChartsTests
{
    // llama.cpp's LLaMA 3 8B scoreboard (WikiText-2): sizes in GiB, perplexity, KLD where published.
    static readonly (string Label, double GiB, double Ppl, double? Kl)[] s_scoreboard =
    [
        ("f16", 14.97, 6.2332, null), ("q8_0", 7.96, 6.2343, 0.0014), ("q4_K_M", 4.58, 6.4071, null),
        ("q4_0", 4.34, 6.7001, 0.072), ("q2_K", 2.96, 9.75, null), ("iq1_S", 1.88, 58.1, null),
    ];

    static List<QualityPoint> Perplexities() => s_scoreboard.Select(s => new QualityPoint(
        s.Label, s.GiB * (1L << 30), s.GiB * (1L << 30) * 8 / 8_030_261_248, s.Ppl, IsBaseline: s.Label == "f16")).ToList();

    [Fact]
    public void SizeVsPerplexity_HasFormatsBaselineAndFront()
    {
        string dir = TestPaths.NewTempDir("charts");
        var chart = Charts.SizeVsQuality(Perplexities(), "perplexity (WikiText-2)", higherIsBetter: false,
            Path.Combine(dir, "size-vs-perplexity"));

        ChartFiles.AssertFiles(chart);
        Assert.Equal(5, chart.SeriesNamed("formats")!.PointCount);
        Assert.Equal(["f16"], chart.SeriesNamed("baseline")!.PointLabels!);
        // Every scoreboard entry is smaller and worse than the one above it: all six are on the front.
        Assert.Equal(["iq1_S", "q2_K", "q4_0", "q4_K_M", "q8_0", "f16"], chart.SeriesNamed("Pareto front")!.PointLabels!);
        Assert.Null(chart.SeriesNamed("95% interval"));
        Assert.Empty(chart.Omitted);
    }

    [Fact]
    public void SizeVsAccuracy_DrawsIntervalsAndDropsDominatedFormats()
    {
        string dir = TestPaths.NewTempDir("charts");
        QualityPoint[] points =
        [
            new("bf16", 16e9, 16, 0.80, 0.77, 0.83, IsBaseline: true),
            new("q8_0", 8.5e9, 8.5, 0.80, 0.77, 0.83),
            new("int8", 8.1e9, 8.1, 0.79, 0.76, 0.82),
            new("q4_0", 4.5e9, 4.5, 0.70, 0.66, 0.74),
            new("int4", 4.6e9, 4.6, 0.66, 0.62, 0.70),   // bigger and worse than q4_0: dominated
            new("q1_0", 1.2e9, 1.125, 0.25, 0.22, 0.28),
            new("broken", 1e9, 1, double.NaN),
        ];
        var chart = Charts.SizeVsQuality(points, "accuracy", higherIsBetter: true, Path.Combine(dir, "acc"), SizeAxis.BitsPerWeight);

        ChartFiles.AssertFiles(chart);
        Assert.Equal(5, chart.SeriesNamed("formats")!.PointCount);
        Assert.Equal(1, chart.SeriesNamed("baseline")!.PointCount);
        Assert.Equal(6, chart.SeriesNamed("95% interval")!.PointCount);
        // bf16 ties q8_0 on accuracy at a larger size, so it is dominated too.
        Assert.Equal(["q1_0", "q4_0", "int8", "q8_0"], chart.SeriesNamed("Pareto front")!.PointLabels!);
        Assert.Equal(["broken"], chart.Omitted);
    }

    [Fact]
    public void SizeVsKl_UsesLogScaleForWideRanges_AndStillWrites()
    {
        string dir = TestPaths.NewTempDir("charts");
        QualityPoint[] points =
        [
            new("q8_0", 8.5e9, 8.5, 0.0014, 0.0012, 0.0016),
            new("q4_0", 4.5e9, 4.5, 0.072, 0.068, 0.076),
            new("q1_0", 1.2e9, 1.125, 3.9, 3.7, 4.1),
        ];
        var chart = Charts.SizeVsQuality(points, "KL divergence (nats)", higherIsBetter: false, Path.Combine(dir, "kl"));
        ChartFiles.AssertFiles(chart);
        Assert.Equal(3, chart.SeriesNamed("formats")!.PointCount);
        Assert.Equal(0, chart.SeriesNamed("baseline")!.PointCount);
        Assert.Equal(3, chart.SeriesNamed("Pareto front")!.PointCount);
    }

    [Fact]
    public void ThroughputVsBits_HasPointsSpreadAndRoofline()
    {
        string dir = TestPaths.NewTempDir("charts");
        ThroughputPoint[] points =
        [
            new("f16", 16, 3.1, 3.0, 3.2, IsBaseline: true),
            new("q8_0", 8.5, 5.6, 5.4, 5.7),
            new("q4_0", 4.5, 9.8, 9.5, 10.0),
            new("q1_0", 1.125, 21.0, 20.0, 22.5),
        ];
        var chart = Charts.ThroughputVsBits(points, Path.Combine(dir, "throughput"), new Roofline(26e9, 7_000_000_000));
        ChartFiles.AssertFiles(chart);
        Assert.Equal(3, chart.SeriesNamed("formats")!.PointCount);
        Assert.Equal(["f16"], chart.SeriesNamed("baseline")!.PointLabels!);
        Assert.Equal(4, chart.SeriesNamed("spread")!.PointCount);
        Assert.Equal(64, chart.SeriesNamed("roofline")!.PointCount);
    }

    [Fact]
    public void ModelSizes_HasOneBarPerFormatAndTheFp16Line()
    {
        string dir = TestPaths.NewTempDir("charts");
        SizeBar[] bars =
        [
            new("bf16", 16_060_522_496), new("q8_0", 8_540_000_000), new("int8 per channel", 8_050_000_000),
            new("q4_0", 4_660_000_000), new("int4 g128", 4_300_000_000), new("q1_0", 1_160_000_000),
        ];
        var chart = Charts.ModelSizes(bars, Path.Combine(dir, "llama31-8b-sizes"));
        ChartFiles.AssertFiles(chart);
        Assert.Equal(6, chart.SeriesNamed("sizes")!.PointCount);
        Assert.Equal(bars.Select(b => b.Label), chart.SeriesNamed("sizes")!.PointLabels!);
        Assert.Equal(1, chart.SeriesNamed("FP16 16.07 GB")!.PointCount);
    }

    [Fact]
    public void TensorErrors_OneChartPerFormat_OneSeriesPerProjectionInOrder()
    {
        string dir = TestPaths.NewTempDir("charts");
        string[] projections = ["down", "up", "gate", "o", "v", "k", "q"];   // deliberately out of order
        var errors = new List<TensorError>();
        foreach (var (format, scale) in new[] { ("q8_0", 0.004), ("q4_0", 0.07), ("q1_0", 0.6) })
            for (int layer = 0; layer < 8; layer++)
                for (int p = 0; p < projections.Length; p++)
                    errors.Add(new TensorError(format, layer, projections[p], scale * (1 + 0.05 * layer + 0.1 * p)));
        errors.Add(new TensorError("q1_0", 8, "q", double.PositiveInfinity));

        var charts = Charts.TensorErrors(errors, dir);

        Assert.Equal(3, charts.Count);
        foreach (var c in charts)
        {
            ChartFiles.AssertFiles(c);
            Assert.Equal(["q", "k", "v", "o", "gate", "up", "down"], c.Series.Select(s => s.Name));
            Assert.All(c.Series, s => Assert.Equal(8, s.PointCount));
        }
        Assert.EndsWith("tensor-error-q4_0.png", charts[1].PngPath);
        Assert.Equal(["L8 q"], charts[2].Omitted);
    }
}
