// CellRecords: the shared conversions from task results (estimates, proportions) to result-record metrics.
using System.Globalization;
using Compression.Evaluation.Metrics;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>Helpers the cell functions use to build metrics and records alike.</summary>
internal static class CellRecords
{
    /// <summary>A mean with its 95% interval and standard error.</summary>
    public static MetricValue Of(MeanEstimate m) => new(m.Mean, m.Lower, m.Upper, m.StdErr);

    /// <summary>A proportion with its Wilson 95% interval and the binomial standard error √(p(1−p)/n), as lm-eval reports it.</summary>
    public static MetricValue Of(Proportion p) =>
        new(p.Value, p.Lower, p.Upper, Math.Sqrt(p.Value * (1 - p.Value) / p.Trials));

    public static string Text(double value) => value.ToString("R", CultureInfo.InvariantCulture);
    public static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A record of <paramref name="model"/> for task <paramref name="task"/>, with its measured size.</summary>
    /// <summary>Another engine's records name it in the <c>engine</c> setting (the workbench's keep records as they were).</summary>
    public static ResultRecord Create(EvaluatedModel model, TaskInfo task, Dictionary<string, MetricValue> metrics, RunSettings settings)
    {
        if (model.Engine != ResultKey.DefaultEngine)
            settings = settings with { Extra = new Dictionary<string, string>(settings.Extra ?? new Dictionary<string, string>()) { ["engine"] = model.Engine } };
        return ResultRecord.Create(model.Info, model.Format, model.Policy, task, metrics, settings, model.Size);
    }
}
