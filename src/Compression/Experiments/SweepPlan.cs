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
public sealed record SweepGroup(string Format, string Policy, bool IsBaseline, IReadOnlyList<SweepCell> Cells, string Method = ResultKey.Rtn,
    string Engine = ResultKey.DefaultEngine)
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
    /// <remarks>QAT cells (<see cref="ExperimentSpec.Qat"/>) are groups of their own, after the post-training ones.</remarks>
    public static IReadOnlyList<string> Methods(ExperimentSpec spec) =>
        spec.Methods is { Count: > 0 } m ? m.Select(n => Quantization.Methods.MethodRegistry.Get(n).Name).ToList() : [ResultKey.Rtn];

    /// <summary>The engine whose baseline the KL divergence of a model on <paramref name="engine"/> is measured against.</summary>
    public static string KlBaselineEngine(ExperimentSpec spec, string engine) => spec.Tasks?.Kl?.BaselineEngine ?? engine;

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
        // Engine by engine, so each engine's artifacts (a GGUF, an ONNX folder) are made and used together.
        foreach (string engine in SweepEngines.Of(spec))
        {
            bool workbench = engine == SweepEngines.TorchSharp;
            if (spec.Baseline != false) groups.Add(Group(baselineFormat, EvaluatedModel.BaselinePolicy, true, engine));
            foreach (string name in spec.Formats ?? [])
            {
                if (!SweepEngines.Runs(engine, name)) continue;
                if (SweepEngines.IsLlamaCppFileType(name))
                {
                    // llama.cpp's file type is its own per-tensor mixture: the policy is llama.cpp's.
                    groups.Add(Group(Compression.Engines.LlamaCpp.LlamaCppQuantizer.Get(name).Name, "llama.cpp", false, engine));
                    continue;
                }
                var format = FormatRegistry.Get(name);
                foreach (string policy in Policies(spec))
                {
                    // An ONNX export has one layout per format (the block linears quantized): only the default policy.
                    if (engine == SweepEngines.OnnxRuntime && policy != "default") continue;
                    // Calibrated methods run in the workbench; other engines evaluate round-to-nearest files.
                    foreach (string method in workbench ? Methods(spec) : [ResultKey.Rtn])
                        groups.Add(Group(format.Name, Policy(policy, format).Label, false, engine, method) with { PolicySource = policy });
                }
            }
        }
        foreach (var qat in spec.Qat?.Cells ?? [])
        {
            var format = FormatRegistry.Get(qat.Format!);
            groups.Add(Group(format.Name, Policy(qat.Policy ?? "pure", format).Label, false, SweepEngines.TorchSharp, method: qat.Method!)); // trained and evaluated in the workbench
        }
        return groups;

        SweepGroup Group(string format, string policy, bool isBaseline, string engine, string method = ResultKey.Rtn)
        {
            var cells = new List<SweepCell>();
            SweepCell Cell(string task, int seed, CellKind kind, string? file = null) => new(new ResultKey(modelName, format, policy, task, seed, method, engine), kind, file);
            var tasks = spec.Tasks;
            if (tasks?.Perplexity is { } ppl) cells.Add(Cell(PerplexityCell.TaskName, seeds[0], CellKind.Perplexity, ppl.File));
            // The baseline is not compared with itself; another engine's baseline is compared with the KL baseline engine's.
            if (tasks?.Kl is { } kl && (!isBaseline || KlBaselineEngine(spec, engine) != engine))
                cells.Add(Cell(KlDivergenceCell.TaskName, seeds[0], CellKind.KlDivergence, kl.File));
            if (tasks?.Choice is not null)
                foreach (string file in choiceFiles)
                    foreach (int seed in seeds)
                        cells.Add(Cell(MultipleChoiceCell.TaskName(file), seed, CellKind.MultipleChoice, file));
            if (tasks?.Throughput is not null && SweepEngines.MeasuresThroughput(engine))
                foreach (int seed in seeds) cells.Add(Cell(ThroughputCell.TaskName, seed, CellKind.Throughput));
            var duplicate = cells.GroupBy(c => c.Key).FirstOrDefault(g => g.Count() > 1);
            if (duplicate is not null)
                throw new ArgumentException($"two cells share the key {duplicate.Key} (two multiple-choice files with the same name?); rename one");
            return new SweepGroup(format, policy, isBaseline, cells, method, engine);
        }
    }
}
