// BenchCompareTests: `compress bench --compare` runs both engines on the same GGUF and files two records in the same
// results row (tasks throughput and throughput.llama.cpp), each naming its engine and carrying the roofline.
using Compression.Cli.Commands;
using Compression.Evaluation.Throughput;
using Compression.Reporting;

namespace Compression.Tests.Engines;

public class BenchCompareTests
{
    [Fact]
    public void CompareFilesBothEnginesWithRoofline()
    {
        string root = TestPaths.NewTempDir("bench-compare");
        var stored = BandwidthStore.Save(root, new BandwidthResult(10e9, 9e9, 2, 1L << 30, 3));
        var request = new BenchCommand.Request(TestPaths.TinyLlamaFile("model-q8_0.gguf"), null, "default", "torchsharp",
            Compare: true, Threads: 2, MeasureBandwidth: false, Results: root)
        {
            Options = new ThroughputOptions { PrefillTokens = 8, DecodeTokens = 4, Repetitions = 1, WarmupRuns = 0 },
        };
        Assert.Equal(0, BenchCommand.Run(request, CancellationToken.None));

        var records = new ResultsStore(root).LoadAll().Records;
        Assert.Equal(2, records.Count);
        var ours = records.Single(r => r.Task.Name == "throughput");
        var theirs = records.Single(r => r.Task.Name == "throughput.llama.cpp");
        Assert.Equal("torchsharp", ours.Settings.Extra!["engine"]);
        Assert.Equal("llama.cpp", theirs.Settings.Extra!["engine"]);
        Assert.Equal((ours.Model.Name, ours.Format, ours.Policy), (theirs.Model.Name, theirs.Format, theirs.Policy));
        Assert.Equal("q8_0", theirs.Format);
        Assert.Equal("2", theirs.Settings.Extra["threads"]);
        Assert.Equal("q8", ours.Settings.Extra["prefill_activations"]); // q8_0 prefills with Q8 activations in the benchmark, as in generation
        Assert.False(theirs.Settings.Extra.ContainsKey("prefill_activations"));
        foreach (var r in records)
        {
            double bytes = r.Metrics[MetricNames.WeightBytesPerToken].Value, roof = r.Metrics[MetricNames.RooflineTokensPerSecond].Value;
            Assert.Equal(stored.BytesPerSecond / bytes, roof, 6);
            Assert.Equal(r.Metrics[MetricNames.DecodeTokensPerSecond].Value / roof, r.Metrics[MetricNames.RooflineFraction].Value, 9);
            Assert.True(r.Metrics[MetricNames.PeakAnonymousBytes].Value > 0);
            Assert.True(r.Metrics[MetricNames.DecodeTokensPerSecond].Value > 0);
        }
        // The two engines read the same file: the same tensors, so the same bytes per token within the norms' share.
        double a = ours.Metrics[MetricNames.WeightBytesPerToken].Value, b = theirs.Metrics[MetricNames.WeightBytesPerToken].Value;
        Assert.InRange(a / b, 0.97, 1.03);
    }

    [Fact]
    public void LlamaCppRefusesInMemoryQuantization()
    {
        var request = new BenchCommand.Request(TestPaths.TinyLlamaFile("model-f32.gguf"), "q4_0", "default", "llama.cpp",
            Compare: false, Threads: 1, MeasureBandwidth: false, Results: TestPaths.NewTempDir("bench-refuse"));
        var e = Assert.Throws<ArgumentException>(() => BenchCommand.Run(request, CancellationToken.None));
        Assert.Contains("compress quantize", e.Message);
    }
}
