// PerplexityCell: one perplexity measurement of a model on a text file, as a result record.
using Compression.Evaluation;
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.Perplexity;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>Runs <see cref="PerplexityTask"/> and files the result.</summary>
public static class PerplexityCell
{
    /// <summary>Task name the records carry.</summary>
    public const string TaskName = PerplexityTask.Name;

    /// <summary>
    /// Token perplexity (95% interval from the per-token NLL), bits per byte and mean NLL per token (with stderr) of
    /// <paramref name="model"/> on <paramref name="file"/>. Deterministic: <paramref name="seed"/> only labels the record.
    /// </summary>
    public static ResultRecord Run(EvaluatedModel model, string file, WindowOptions options, int seed = 0,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var languageModel = model.AsLanguageModel(options.ContextLength);
        var result = new PerplexityTask(options).RunFile(languageModel, file, progress, cancellationToken);
        var metrics = new Dictionary<string, MetricValue>
        {
            [MetricNames.Perplexity] = new(result.Perplexity, result.PerplexityLower, result.PerplexityUpper),
            [MetricNames.BitsPerByte] = new(result.BitsPerByte),
            ["nll_per_token"] = CellRecords.Of(result.NllPerToken),
            ["tokens_scored"] = new(result.TokensScored),
        };
        var settings = new RunSettings
        {
            Seed = seed,
            ContextLength = options.ContextLength,
            Extra = new Dictionary<string, string>
            {
                ["file"] = Path.GetFileName(file),
                ["stride"] = CellRecords.Text(options.EffectiveStride),
                ["bos"] = result.Options.PrependBos ? "prepended" : "none", // as run: none when the tokenizer adds no BOS
                ["max_tokens"] = options.MaxTokens is int m ? CellRecords.Text(m) : "all",
                ["documents"] = options.DocumentSeparator is null ? "one stream" : "each scored from its own BOS",
            },
        };
        return CellRecords.Create(model, new TaskInfo(TaskName, result.Version), metrics, settings);
    }
}
