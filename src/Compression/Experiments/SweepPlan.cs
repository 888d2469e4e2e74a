// SweepPlan: an experiment spec expanded into cells — (format, policy) groups, each with its tasks × seeds.
using Compression.Quantization;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>What a cell measures.</summary>
public enum CellKind { Perplexity, KlDivergence, MultipleChoice, Throughput }

/// <summary>One cell: its result key (model, format, policy, task, seed), what it runs and on which file.</summary>
public sealed record SweepCell(ResultKey Key, CellKind Kind, string? File = null)
{
    public override string ToString() => Key.ToString();
}

/// <summary>
/// The cells of one model variant: the baseline (the model as loaded) or one format under one policy. A group is
/// quantized once and all its cells run on that one copy.
/// </summary>
public sealed record SweepGroup(string Format, string Policy, bool IsBaseline, IReadOnlyList<SweepCell> Cells, string Method = ResultKey.Rtn)
{
    /// <summary>The spec's policy entry when it differs from the label (a "plan:FILE" policy is labelled by its file name).</summary>
    public string? PolicySource { get; init; }
}

/// <summary>Expands a spec into groups and cells.</summary>
public static class SweepPlan
{
    /// <summary>The seeds of a spec (default [1234]).</summary>
    public static IReadOnlyList<int> Seeds(ExperimentSpec spec) => spec.Seeds is { Count: > 0 } s ? s : [1234];

    /// <summary>The policy labels of a spec (default ["default"]).</summary>
    public static IReadOnlyList<string> Policies(ExperimentSpec spec) => spec.Policies is { Count: > 0 } p ? p : ["default"];

    /// <summary>The method names of a spec (default ["rtn"]), as the registry spells them.</summary>
    public static IReadOnlyList<string> Methods(ExperimentSpec spec) =>
        spec.Methods is { Count: > 0 } m ? m.Select(n => Quantization.Methods.MethodRegistry.Get(n).Name).ToList() : [ResultKey.Rtn];

    /// <summary>The quantization policy called <paramref name="label"/> for <paramref name="format"/>.</summary>
    public static QuantizationPolicy Policy(string label, TensorFormat format) => label switch
    {
        "default" => QuantizationPolicy.Default(format),
        "pure" => QuantizationPolicy.PureOf(format),
        "llama.cpp" => QuantizationPolicy.LlamaCppDefault(format),
        _ when label.StartsWith(Quantization.Planning.PlanFile.PolicyPrefix, StringComparison.Ordinal)
            => Quantization.Planning.PlanFile.Policy(label[Quantization.Planning.PlanFile.PolicyPrefix.Length..], format),
        _ => throw new ArgumentException($"unknown policy '{label}'; known: {string.Join(", ", ExperimentSpecLoader.PolicyNames)}"),
    };

    /// <summary>
    /// Groups in run order: the baseline first (unless the spec turns it off), then each format × policy. Within a group:
    /// perplexity, KL divergence (not for the baseline: it would be compared with itself), each multiple-choice file, throughput.
    /// Perplexity and KL divergence are deterministic and run once, filed under the first seed; multiple choice (few-shot draw)
    /// and throughput (prompt tokens) run once per seed.
    /// </summary>
    public static IReadOnlyList<SweepGroup> Expand(ExperimentSpec spec, string modelName, string baselineFormat, IReadOnlyList<string> choiceFiles)
    {
        var seeds = Seeds(spec);
        var groups = new List<SweepGroup>();
        if (spec.Baseline != false) groups.Add(Group(baselineFormat, EvaluatedModel.BaselinePolicy, true));
        foreach (string name in spec.Formats ?? [])
        {
            var format = FormatRegistry.Get(name);
            foreach (string policy in Policies(spec))
                foreach (string method in Methods(spec))
                    groups.Add(Group(format.Name, Policy(policy, format).Label, false, method) with { PolicySource = policy });
        }
        return groups;

        SweepGroup Group(string format, string policy, bool isBaseline, string method = ResultKey.Rtn)
        {
            var cells = new List<SweepCell>();
            SweepCell Cell(string task, int seed, CellKind kind, string? file = null) => new(new ResultKey(modelName, format, policy, task, seed, method), kind, file);
            var tasks = spec.Tasks;
            if (tasks?.Perplexity is { } ppl) cells.Add(Cell(PerplexityCell.TaskName, seeds[0], CellKind.Perplexity, ppl.File));
            if (tasks?.Kl is { } kl && !isBaseline) cells.Add(Cell(KlDivergenceCell.TaskName, seeds[0], CellKind.KlDivergence, kl.File));
            if (tasks?.Choice is not null)
                foreach (string file in choiceFiles)
                    foreach (int seed in seeds)
                        cells.Add(Cell(MultipleChoiceCell.TaskName(file), seed, CellKind.MultipleChoice, file));
            if (tasks?.Throughput is not null)
                foreach (int seed in seeds) cells.Add(Cell(ThroughputCell.TaskName, seed, CellKind.Throughput));
            var duplicate = cells.GroupBy(c => c.Key).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new ArgumentException($"two cells share the key {duplicate.Key} (two multiple-choice files with the same name?); rename one");
            return new SweepGroup(format, policy, isBaseline, cells, method);
        }
    }
}
