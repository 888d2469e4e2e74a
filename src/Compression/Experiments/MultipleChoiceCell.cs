// MultipleChoiceCell: multiple-choice accuracy of a model on JSONL task files, one result record per file.
using Compression.Evaluation;
using Compression.Evaluation.Tasks.MultipleChoice;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>Runs <see cref="MultipleChoiceTask"/> on each file and files one record per file.</summary>
public static class MultipleChoiceCell
{
    /// <summary>The task name of a file's records: its file name without extension ("hellaswag.jsonl" → "hellaswag").</summary>
    public static string TaskName(string file) => Path.GetFileNameWithoutExtension(file);

    /// <summary>
    /// acc and acc_norm (Wilson 95% intervals, binomial stderr) of <paramref name="model"/> on <paramref name="file"/>;
    /// the record's task version is the task result's ("scoring.layout").
    /// </summary>
    public static ResultRecord Run(EvaluatedModel model, string file, MultipleChoiceOptions options,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var set = MultipleChoiceSet.Read(file);
        using var languageModel = model.AsLanguageModel();
        var result = new MultipleChoiceTask(options).Run(languageModel, set, progress, cancellationToken);
        var metrics = new Dictionary<string, MetricValue>
        {
            [MetricNames.Accuracy] = CellRecords.Of(result.Acc),
            [MetricNames.AccuracyNorm] = CellRecords.Of(result.AccNorm),
            ["documents"] = new(result.Items.Count),
        };
        var settings = new RunSettings
        {
            Seed = options.Seed,
            FewShot = options.FewShot,
            Limit = options.Limit,
            Extra = new Dictionary<string, string>
            {
                ["file"] = Path.GetFileName(file),
                ["layout"] = set.Layout.Name,
                ["bos"] = options.AddBos && languageModel.BosId is not null ? "prepended" : "none",
            },
        };
        return CellRecords.Create(model, new TaskInfo(TaskName(file), result.Version), metrics, settings);
    }

    /// <summary>One record per file of <paramref name="files"/>, in order.</summary>
    public static IReadOnlyList<ResultRecord> Run(EvaluatedModel model, IReadOnlyList<string> files, MultipleChoiceOptions options,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default) =>
        files.Select(f => Run(model, f, options, progress, cancellationToken)).ToList();
}
