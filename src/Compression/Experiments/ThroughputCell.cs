// ThroughputCell: prefill and decode speed and peak memory of a model, as a result record.
using Compression.Evaluation;
using Compression.Evaluation.Throughput;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>Runs <see cref="ThroughputBenchmark"/> and files the result (the record describes the machine).</summary>
public static class ThroughputCell
{
    /// <summary>Task name the records carry.</summary>
    public const string TaskName = "throughput";

    /// <summary>
    /// Median prefill and decode tokens/s over the repetitions, with the slowest and fastest run as bounds;
    /// decode ms/token; peak resident memory of the process.
    /// </summary>
    public static ResultRecord Run(EvaluatedModel model, ThroughputOptions options,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var r = ThroughputBenchmark.Run(model.Model, options, progress, cancellationToken);
        var metrics = new Dictionary<string, MetricValue>
        {
            [MetricNames.PrefillTokensPerSecond] = new(r.PrefillTokensPerSecond, r.PrefillMin, r.PrefillMax),
            [MetricNames.DecodeTokensPerSecond] = new(r.DecodeTokensPerSecond, r.DecodeMin, r.DecodeMax),
            [MetricNames.DecodeMsPerToken] = new(r.DecodeMsPerToken, 1000.0 / r.DecodeMax, 1000.0 / r.DecodeMin),
            [MetricNames.PeakResidentBytes] = new(r.PeakResidentBytes),
        };
        var settings = new RunSettings
        {
            Seed = options.Seed,
            ContextLength = options.PrefillTokens,
            Extra = new Dictionary<string, string>
            {
                ["prefill_tokens"] = CellRecords.Text(options.PrefillTokens),
                ["decode_tokens"] = CellRecords.Text(options.DecodeTokens),
                ["repetitions"] = CellRecords.Text(options.Repetitions),
                ["warmup"] = CellRecords.Text(options.WarmupRuns),
                ["threads"] = CellRecords.Text(TorchSharp.torch.get_num_threads()),
            },
        };
        return CellRecords.Create(model, new TaskInfo(TaskName, ThroughputResult.Version), metrics, settings);
    }
}
