// ReportWriterTests: REPORT.md holds the headline and size rows, provenance, chart links and problems; Generate does it all.
using Compression.Reporting;

using Compression.Quantization;

namespace Compression.Tests.Reporting;

public class ReportWriterTests
{
    static readonly ReportOptions s_fixedTime = new() { GeneratedUtc = new DateTimeOffset(2026, 11, 25, 13, 0, 0, TimeSpan.Zero) };

    static string Line(string md, string start) =>
        md.Split('\n').Single(l => l.StartsWith(start, StringComparison.Ordinal)).TrimEnd('\r');

    [Fact]
    public void Render_HeadlineTable_HasEveryFormatWithItsMetrics()
    {
        string md = ReportWriter.Render(SampleRecords.Sweep(), [], [], "/r", s_fixedTime);

        Assert.Contains("## proxy-llama (6,000,000 parameters)", md);
        Assert.Equal("| format | policy | bits/weight | size | PPL wikitext | KL mean | top-1 agree | acc recall | decode tok/s |",
            Line(md, "| format | policy | bits/weight | size | PPL"));
        Assert.Equal("| **f16** (baseline) | default | 16.00 | 12.00 MB | 5.21 | — | — | 71.2% [68.1, 74.1] | 310.0 [300.7, 316.2] |",
            Line(md, "| **f16**"));
        Assert.Equal("| q8_0 | default | 8.50 | 6.38 MB | 5.22 | 0.0021 | 98.5% | 70.9% [67.8, 73.8] | 520.0 [504.4, 530.4] |",
            Line(md, "| q8_0 | default | 8.50"));
        Assert.Equal("| q1_0 | default | 1.13 | 843.8 kB | 480 | 3.9 | 21.0% | 26.2% [23.1, 29.1] | 1450.0 [1406.5, 1479.0] |",
            Line(md, "| q1_0 | default | 1.13"));
        // Rows run from the baseline down in bits per weight.
        Assert.True(md.IndexOf("| q8_0 | default | 8.50", StringComparison.Ordinal) < md.IndexOf("| q4_0 | default | 4.50", StringComparison.Ordinal));
    }

    [Fact]
    public void Render_SizesTable_AndProvenance()
    {
        string md = ReportWriter.Render(SampleRecords.Sweep(), [], [], "/r", s_fixedTime);

        Assert.Equal("| q4_0 | default | 3,375,000 | 3.38 MB | 3.22 MiB | 4.500 | 3.56× smaller |", Line(md, "| q4_0 | default | 3,375,000"));
        Assert.Equal("| f16 | default | 12,000,000 | 12.00 MB | 11.44 MiB | 16.000 | baseline |", Line(md, "| f16 | default | 12,000,000"));
        Assert.Contains("Generated 2026-11-25 13:00 UTC from 15 records.", md);
        Assert.Contains("- Tool 1.0.0, commit `0123456789ab` (15 records)", md);
        Assert.Contains("- Machine: Test CPU 9000 · 2 cores · AVX2 FMA F16C · 24.0 GiB", md);
        Assert.Contains("- Measured: 2026-11-25 12:00 UTC", md);
    }

    [Fact]
    public void Render_SeedsAreAveraged_AndExplicitBaselineWins()
    {
        var recs = new List<ResultRecord>
        {
            SampleRecords.Make("f16", "recall", new Dictionary<string, MetricValue> { ["acc"] = new(0.60) }, 12_000_000, seed: 1),
            SampleRecords.Make("f16", "recall", new Dictionary<string, MetricValue> { ["acc"] = new(0.70) }, 12_000_000, seed: 2),
            SampleRecords.Make("f32", "recall", new Dictionary<string, MetricValue> { ["acc"] = new(0.66) }, 24_000_000, seed: 1),
        };
        string md = ReportWriter.Render(recs, [], [], "/r", s_fixedTime with { BaselineFormat = "f16" });
        Assert.Equal("| **f16** (baseline) | default | 16.00 | 12.00 MB | 65.0% (n=2) |", Line(md, "| **f16**"));
        Assert.Equal("| f32 | default | 32.00 | 24.00 MB | 66.0% |", Line(md, "| f32 | default | 32.00"));

        string auto = ReportWriter.Render(recs, [], [], "/r", s_fixedTime);
        Assert.StartsWith("| **f32** (baseline)", Line(auto, "| **f32**"));
    }

    [Fact]
    public void Render_SizeTable_ChartLinksAndProblems()
    {
        var options = s_fixedTime with { SizeTable = [new SizeBar("bf16", 16_060_522_496), new SizeBar("q4_0", 4_660_000_000)] };
        var chart = new ChartFile("Size vs perplexity", "/r/charts/a b.png", "/r/charts/a b.svg", [], []);
        string md = ReportWriter.Render([], [chart], ["/r/records/bad.json: not a valid result record"], "/r", options);

        Assert.Contains("## Llama 3.1 8B size per format", md);
        Assert.Equal("| q4_0 | 4,660,000,000 | 4.66 | 4.34 | 3.45× smaller |", Line(md, "| q4_0 |"));
        Assert.Contains("| format | bytes | GB | GiB | vs FP16 16.07 GB |", md);
        Assert.Contains("![Size vs perplexity](charts/a%20b.png) ([SVG](charts/a%20b.svg))", md);
        Assert.Contains("## Problems", md);
        Assert.Contains("- /r/records/bad.json: not a valid result record", md);
    }

    [Fact]
    public void Size_table_of_several_families_has_a_family_column_from_the_presets()
    {
        var table = Compression.Experiments.ReportInputs.BuildSizeTable(["llama-3.1-8b", "qwen3-8b", "mixtral-8x7b"]);
        var bars = Compression.Experiments.ReportInputs.Bars(table);
        string md = ReportWriter.Render([], [], [], "/r", s_fixedTime with { SizeTable = bars });

        Assert.Contains("| format | family | bytes | GB | GiB | vs FP16 16.07 GB |", md);
        Assert.Equal("| qwen3-8b f16 | qwen3 | 16,381,470,720 | 16.38 | 15.26 | 1.02× larger |", Line(md, "| qwen3-8b f16 |"));
        Assert.StartsWith("| mixtral-8x7b q1_0 (pure) | mixtral |", Line(md, "| mixtral-8x7b q1_0 (pure) |"));
        // One model: no family column (the quickstart's table is unchanged).
        string one = ReportWriter.Render([], [], [], "/r", s_fixedTime with { SizeTable = Compression.Experiments.ReportInputs.Bars(
            Compression.Experiments.ReportInputs.BuildSizeTable(["llama-3.1-8b"])) });
        Assert.Contains("| format | bytes | GB | GiB |", one);
        Assert.DoesNotContain("| family |", one);
    }

    [Fact]
    public void Render_EscapesTableBreakingText()
    {
        var r = SampleRecords.Make("q8_0", "t", new Dictionary<string, MetricValue> { ["perplexity"] = new(double.PositiveInfinity) }, 10,
            policy: "a|b");
        string md = ReportWriter.Render([r], [], [], "/r", s_fixedTime);
        Assert.Contains("| a\\|b |", md);
        Assert.Contains("| ∞ |", md);
    }

    [Fact]
    public void Generate_WritesReportCsvAndCharts_AndListsCorruptFiles()
    {
        var store = new ResultsStore(TestPaths.NewTempDir("report"));
        foreach (var r in SampleRecords.Sweep()) store.Save(r);
        File.WriteAllText(Path.Combine(store.RecordsDirectory, "corrupt.json"), "{ broken");
        var options = s_fixedTime with
        {
            SizeTable = [new SizeBar("bf16", 16_060_522_496), new SizeBar("q8_0", 8_540_000_000), new SizeBar("q1_0", 1_160_000_000)],
            TensorErrors = [new TensorError("q4_0", 0, "q", 0.07), new TensorError("q4_0", 1, "q", 0.08), new TensorError("q4_0", 0, "down", 0.05)],
        };

        var output = ReportWriter.Generate(store, options);

        Assert.Equal(15, output.RecordCount);
        Assert.Equal(Path.Combine(store.Root, "REPORT.md"), output.ReportPath);
        string md = File.ReadAllText(output.ReportPath);
        Assert.Contains("| q4_0 | default | 4.50 |", md);
        Assert.Contains("corrupt.json", Assert.Single(output.Problems));
        Assert.Contains("corrupt.json", md);
        Assert.True(File.Exists(output.CsvPath));

        var names = output.Charts.Select(c => Path.GetFileNameWithoutExtension(c.PngPath)).ToList();
        Assert.Equal(
        [
            "proxy-llama-size-vs-perplexity-wikitext", "proxy-llama-size-vs-kl_mean-kl-vs-f16", "proxy-llama-size-vs-top1_agreement-kl-vs-f16",
            "proxy-llama-size-vs-acc-recall", "proxy-llama-throughput-vs-bits-bench", "model-sizes", "tensor-error-q4_0",
        ], names);
        foreach (var c in output.Charts)
        {
            ChartFiles.AssertFiles(c);
            Assert.Contains($"charts/{Path.GetFileName(c.PngPath)}", md);
        }
        var ppl = output.Charts[0];
        Assert.Equal(3, ppl.SeriesNamed("formats")!.PointCount);
        Assert.Equal(["f16"], ppl.SeriesNamed("baseline")!.PointLabels!);
        Assert.Equal(4, ppl.SeriesNamed("Pareto front")!.PointCount);
        var kl = output.Charts[1];
        Assert.Equal(0, kl.SeriesNamed("baseline")!.PointCount);   // the baseline against itself is not a point
        Assert.Equal(3, kl.SeriesNamed("formats")!.PointCount);
        var acc = output.Charts[3];
        Assert.Equal(4, acc.SeriesNamed("95% interval")!.PointCount);
        Assert.Equal(3, output.Charts[5].SeriesNamed("sizes")!.PointCount);
        Assert.Equal(["q", "down"], output.Charts[6].Series.Select(s => s.Name));
        Assert.Empty(Directory.GetFiles(store.Root, "*.tmp", SearchOption.AllDirectories));
    }
}
