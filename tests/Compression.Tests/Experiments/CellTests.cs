// CellTests: each measurement cell files a record with its metrics, intervals, settings, size and labels.
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.MultipleChoice;
using Compression.Evaluation.Throughput;
using Compression.Experiments;
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;

namespace Compression.Tests.Experiments;

public sealed class CellTests
{
    private static readonly WindowOptions s_window = new() { ContextLength = 24, MaxTokens = 60 };

    [Fact]
    public void Perplexity_record_has_perplexity_with_interval_bits_per_byte_and_size()
    {
        string dir = ExperimentInputs.Create();
        using var session = ExperimentInputs.OpenFixture();
        var model = EvaluatedModel.Baseline(session);
        var r = PerplexityCell.Run(model, Path.Combine(dir, "text.txt"), s_window, seed: 3);

        Assert.Equal(new ResultKey("tiny-llama3", "f32", "baseline", "perplexity", 3), r.Key);
        var ppl = r.Metrics[MetricNames.Perplexity];
        Assert.True(ppl.Value > 1 && ppl.Lower < ppl.Value && ppl.Value < ppl.Upper);
        var nll = r.Metrics["nll_per_token"];
        Assert.Equal(Math.Log(ppl.Value), nll.Value, 9);
        Assert.True(nll.StdErr > 0);
        Assert.True(r.Metrics[MetricNames.BitsPerByte].Value > 0);
        Assert.Equal(60, r.Metrics["tokens_scored"].Value);
        Assert.Equal(24, r.Settings.ContextLength);
        long parameters = LlamaTensorLayout.ParameterCount(session.Config);
        Assert.Equal(parameters, r.Model.ParameterCount);
        Assert.Equal(session.Model.WeightBytes, r.Size!.Bytes);
        Assert.Equal(8.0 * session.Model.WeightBytes / parameters, r.Size.BitsPerWeight, 9);
        Assert.True(r.Size.BitsPerWeight > 31.9 && r.Size.BitsPerWeight < 32.1); // float32 weights
    }

    [Fact]
    public void Kl_record_of_quantized_model_against_baseline_has_kl_and_agreement()
    {
        string dir = ExperimentInputs.Create();
        using var session = ExperimentInputs.OpenFixture();
        var baseline = EvaluatedModel.Baseline(session);
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q4_0"));
        using var q = ModelQuantizer.Apply(session.Model, policy);
        var r = KlDivergenceCell.Run(baseline, baseline.Quantized(q, policy), Path.Combine(dir, "text.txt"), s_window, seed: 1);

        Assert.Equal(new ResultKey("tiny-llama3", "q4_0", "default", "kl-divergence", 1), r.Key);
        var kl = r.Metrics[MetricNames.KlMean];
        Assert.True(kl.Value > 0 && kl.Lower <= kl.Value && kl.Value <= kl.Upper && kl.StdErr > 0);
        Assert.True(r.Metrics[MetricNames.KlP99].Value >= r.Metrics[MetricNames.KlMedian].Value);
        var top1 = r.Metrics[MetricNames.Top1Agreement];
        Assert.InRange(top1.Value, 0, 1);
        Assert.True(top1.Lower <= top1.Value && top1.Value <= top1.Upper);
        Assert.True(r.Size!.Bytes < session.Model.WeightBytes); // q4_0 blocks are smaller than float32
    }

    [Fact]
    public void Kl_of_a_model_against_itself_is_zero_with_full_agreement()
    {
        string dir = ExperimentInputs.Create();
        using var session = ExperimentInputs.OpenFixture();
        var baseline = EvaluatedModel.Baseline(session);
        var r = KlDivergenceCell.Run(baseline, baseline, Path.Combine(dir, "text.txt"), s_window);
        Assert.Equal(0, r.Metrics[MetricNames.KlMean].Value, 6);
        Assert.Equal(1, r.Metrics[MetricNames.Top1Agreement].Value);
    }

    [Fact]
    public void Multiple_choice_gives_one_record_per_file_named_after_it_with_acc_and_acc_norm()
    {
        string dir = ExperimentInputs.Create();
        using var session = ExperimentInputs.OpenFixture();
        var model = EvaluatedModel.Baseline(session);
        var records = MultipleChoiceCell.Run(model, [Path.Combine(dir, "a.jsonl"), Path.Combine(dir, "b.jsonl")],
            new MultipleChoiceOptions { FewShot = 1, Seed = 5 });

        Assert.Equal(["a", "b"], records.Select(r => r.Task.Name));
        Assert.Equal([3.0, 2.0], records.Select(r => r.Metrics["documents"].Value));
        foreach (var r in records)
        {
            Assert.Equal(5, r.Key.Seed);
            Assert.Equal(1, r.Settings.FewShot);
            Assert.StartsWith(MultipleChoiceTask.Version + ".", r.Task.Version);
            foreach (string m in new[] { MetricNames.Accuracy, MetricNames.AccuracyNorm })
            {
                var v = r.Metrics[m];
                double n = r.Metrics["documents"].Value;
                Assert.Equal(0, v.Value * n - Math.Round(v.Value * n), 9); // a whole number of correct items
                Assert.True(v.Lower <= v.Value && v.Value <= v.Upper);
                Assert.Equal(Math.Sqrt(v.Value * (1 - v.Value) / n), v.StdErr!.Value, 12);
            }
        }
    }

    [Fact]
    public void Throughput_record_has_speeds_with_spread_and_memory()
    {
        using var session = ExperimentInputs.OpenFixture();
        var r = ThroughputCell.Run(EvaluatedModel.Baseline(session),
            new ThroughputOptions { PrefillTokens = 8, DecodeTokens = 4, Repetitions = 2, WarmupRuns = 0, Seed = 9 });

        Assert.Equal(new ResultKey("tiny-llama3", "f32", "baseline", "throughput", 9), r.Key);
        foreach (string m in new[] { MetricNames.PrefillTokensPerSecond, MetricNames.DecodeTokensPerSecond })
        {
            var v = r.Metrics[m];
            Assert.True(v.Value > 0 && v.Lower <= v.Value && v.Value <= v.Upper);
        }
        Assert.Equal(1000 / r.Metrics[MetricNames.DecodeTokensPerSecond].Value, r.Metrics[MetricNames.DecodeMsPerToken].Value, 9);
        Assert.True(r.Metrics[MetricNames.PeakResidentBytes].Value > 0);
        Assert.Equal("8", r.Settings.Extra!["prefill_tokens"]);
        Assert.False(string.IsNullOrEmpty(r.Machine.CpuModel));
    }
}
