// KlDivergenceCell: one KL-divergence measurement of a candidate against its baseline, both in memory, as a result record.
using Compression.Evaluation;
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.KlDivergence;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>
/// Runs <see cref="KlDivergenceTask"/> with both models loaded side by side and files the result under the candidate. The
/// two may run on different engines (baseline in the workbench, candidate in llama.cpp): rows are compared position by
/// position as both produce them, so no logits file is written.
/// </summary>
public static class KlDivergenceCell
{
    /// <summary>Task name the records carry.</summary>
    public const string TaskName = KlDivergenceTask.Name;

    /// <summary>
    /// KL(baseline ‖ candidate) per token — mean (95% interval, stderr), median, 99th percentile — top-1 agreement
    /// (Wilson interval), the perplexity ratio and the mean Δp, on <paramref name="file"/>.
    /// </summary>
    public static ResultRecord Run(EvaluatedModel baseline, EvaluatedModel candidate, string file, WindowOptions options, int seed = 0,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var baselineModel = baseline.AsLanguageModel(options.ContextLength);
        using var candidateModel = candidate.AsLanguageModel(options.ContextLength);
        var result = new KlDivergenceTask(options).RunFile(baselineModel, candidateModel, file, progress, cancellationToken);
        var metrics = new Dictionary<string, MetricValue>
        {
            [MetricNames.KlMean] = CellRecords.Of(result.Kl.Mean),
            [MetricNames.KlMedian] = new(result.Kl.Median),
            [MetricNames.KlP99] = new(result.Kl.P99),
            ["kl_max"] = new(result.Kl.Max),
            [MetricNames.Top1Agreement] = CellRecords.Of(result.SameTop),
            ["perplexity_ratio"] = new(result.PerplexityRatio),
            ["ln_perplexity_ratio"] = CellRecords.Of(result.LnPerplexityRatio),
            ["delta_p"] = CellRecords.Of(result.DeltaP),
            ["rms_delta_p"] = new(result.RmsDeltaP),
            ["tokens_scored"] = new(result.TokensScored),
        };
        var settings = new RunSettings
        {
            Seed = seed,
            ContextLength = options.ContextLength,
            Extra = new Dictionary<string, string>
            {
                ["file"] = Path.GetFileName(file),
                ["baseline"] = $"{baseline.Format} ({baseline.Policy})" + (baseline.Engine == candidate.Engine ? "" : $" on {baseline.Engine}"),
                ["max_tokens"] = options.MaxTokens is int m ? CellRecords.Text(m) : "all",
                ["documents"] = options.DocumentSeparator is null ? "one stream" : "each scored from its own BOS",
            },
        };
        return CellRecords.Create(candidate, new TaskInfo(TaskName, result.Version), metrics, settings);
    }
}
