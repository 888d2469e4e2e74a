// ThroughputSummaryTests: throughput records of several files and two engines become one side-by-side table (with the
// workbench ÷ llama.cpp ratio on the same file) and one chart with a series per engine under the roofline.
using Compression.Reporting;

namespace Compression.Tests.Reporting;

public class ThroughputSummaryTests
{
    private static ResultRecord Bench(string file, string format, string engine, double decode, long bytes) =>
        SampleRecords.Make(format, engine == "torchsharp" ? "throughput" : "throughput." + engine, new Dictionary<string, MetricValue>
        {
            [MetricNames.DecodeTokensPerSecond] = new(decode, decode * 0.9, decode * 1.1),
            [MetricNames.PrefillTokensPerSecond] = new(4 * decode),
            [MetricNames.ReadBandwidth] = new(17.3e9),
            [MetricNames.WeightBytesPerToken] = new(bytes),
            [MetricNames.RooflineFraction] = new(decode / (17.3e9 / bytes)),
            [MetricNames.PeakAnonymousBytes] = new(123_000_000),
        }, bytes, policy: "baseline", model: new ModelInfo(file, null, 6_000_000)) with
        {
            Settings = new RunSettings { Seed = 1, Extra = new Dictionary<string, string> { ["engine"] = engine } },
        };

    private static List<ResultRecord> Records() =>
    [
        Bench("8b-f16.gguf", "f16", "torchsharp", 0.50, 12_000_000), Bench("8b-f16.gguf", "f16", "llama.cpp", 1.00, 12_000_000),
        Bench("8b-q4_0.gguf", "q4_0", "torchsharp", 3.00, 3_375_000), Bench("8b-q4_0.gguf", "q4_0", "llama.cpp", 2.00, 3_375_000),
        Bench("8b-q1_0.gguf", "q1_0", "torchsharp", 6.00, 843_750),
    ];

    [Fact]
    public void Rows_pair_engines_on_the_same_file()
    {
        var rows = ThroughputSummary.Rows(Records());
        Assert.Equal(5, rows.Count);
        Assert.Equal(["q1_0", "q4_0", "q4_0", "f16", "f16"], rows.Select(r => r.Format)); // by bits per weight
        var ours = rows.Single(r => r.Format == "f16" && r.Engine == "torchsharp");
        Assert.Equal(0.5, ThroughputSummary.RatioTo(ours, rows, "llama.cpp")!.Value, 12);
        Assert.Equal(1.5, ThroughputSummary.RatioTo(rows.Single(r => r.Format == "q4_0" && r.Engine == "torchsharp"), rows, "llama.cpp")!.Value, 12);
        Assert.Null(ThroughputSummary.RatioTo(rows.Single(r => r.Format == "q1_0"), rows, "llama.cpp")); // llama.cpp did not run it
    }

    [Fact]
    public void Report_has_the_side_by_side_table_and_the_engine_chart()
    {
        string dir = TestPaths.NewTempDir("throughput-report");
        var records = Records();
        var set = ReportCharts.WriteAll(records, dir);
        var chart = Assert.Single(set.Charts, c => c.PngPath.EndsWith("throughput-by-engine.png", StringComparison.Ordinal));
        Assert.Equal(3, chart.SeriesNamed("torchsharp")!.PointCount);
        Assert.Equal(2, chart.SeriesNamed("llama.cpp")!.PointCount);
        Assert.Equal(64, chart.SeriesNamed("roofline")!.PointCount);
        string md = ReportWriter.Render(records, set.Charts, [], dir, new ReportOptions());
        Assert.Contains("## Throughput, side by side", md);
        Assert.Contains("| 8b-q4_0.gguf | q4_0 | torchsharp | 4.50 | 12.00 | 3.00 [2.70, 3.30] |", md);
        Assert.Contains("| 1.50× |", md);
    }
}
