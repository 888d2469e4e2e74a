// ExperimentSpecLoader: reads an experiment spec, validates it field by field and resolves its paths.
using System.Text.Json;
using Compression.Model;
using Compression.Quantization;

namespace Compression.Experiments;

/// <summary>Reads and validates <see cref="ExperimentSpec"/>s; every error names the spec file and the field.</summary>
public static class ExperimentSpecLoader
{
    /// <summary>Policy labels a spec may name.</summary>
    public static IReadOnlyList<string> PolicyNames { get; } = ["default", "pure", "llama.cpp"];

    /// <summary>
    /// Reads <paramref name="path"/>, validates it and resolves relative paths against <paramref name="baseDirectory"/>
    /// (the current directory by default). Throws <see cref="InvalidDataException"/> "FILE: FIELD: problem".
    /// </summary>
    public static ExperimentSpec Load(string path, string? baseDirectory = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"Experiment spec not found: {path}", path);
        return Parse(Compression.IO.InputFile.ReadAllText(path, 16 << 20, "an experiment spec (JSON)"), path, baseDirectory);
    }

    /// <summary>Parses spec text; <paramref name="source"/> names it in errors.</summary>
    public static ExperimentSpec Parse(string json, string source, string? baseDirectory = null)
    {
        ExperimentSpec? spec;
        try
        {
            spec = JsonSerializer.Deserialize(json, ExperimentSpecJson.Default.ExperimentSpec);
        }
        catch (JsonException e)
        {
            string field = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $"{e.Path.TrimStart('$', '.')}: ";
            string line = e.LineNumber is long l ? $" (line {l + 1})" : "";
            throw new InvalidDataException($"{source}: {field}invalid spec{line}: {FirstSentence(e.Message)}", e);
        }
        if (spec is null) throw new InvalidDataException($"{source}: the file holds JSON null, not an experiment spec");
        return Resolve(Validate(spec, source), baseDirectory ?? Directory.GetCurrentDirectory());
    }

    /// <summary>Checks every field; returns <paramref name="spec"/> unchanged or throws naming <paramref name="source"/> and the field.</summary>
    public static ExperimentSpec Validate(ExperimentSpec spec, string source)
    {
        void Fail(string field, string problem) => throw new InvalidDataException($"{source}: {field}: {problem}");
        var tasks = spec.Tasks;
        bool anyTask = tasks is not null && (tasks.Perplexity ?? tasks.Kl ?? tasks.Choice ?? (object?)tasks.Throughput) is not null;
        if (!anyTask && spec.SizeTable is not { Count: > 0 })
            Fail("tasks", "the spec runs nothing: give at least one task (perplexity, kl, choice, throughput) or a sizeTable");
        if (spec.Model is null)
        {
            if (anyTask) Fail("model", "required when tasks are given ({\"path\": DIR_OR_GGUF} or {\"preset\": NAME})");
            if (spec.Formats is { Count: > 0 }) Fail("formats", "formats need a model");
            if (spec.TensorErrors == true) Fail("tensorErrors", "per-tensor errors need a model");
        }
        else if (string.IsNullOrWhiteSpace(spec.Model.Path) == string.IsNullOrWhiteSpace(spec.Model.Preset))
            Fail("model", "give exactly one of \"path\" or \"preset\"");

        for (int i = 0; i < (spec.Engines?.Count ?? 0); i++)
            if (!SweepEngines.Names.Contains(spec.Engines![i] ?? ""))
                Fail($"engines[{i}]", $"unknown engine '{spec.Engines[i]}'; known: {string.Join(", ", SweepEngines.Names)}");
        if (spec.Engines is { Count: 0 }) Fail("engines", "empty list; omit it for [\"torchsharp\"]");
        if (spec.Engines is { } es && es.Distinct().Count() != es.Count) Fail("engines", "an engine is listed twice");
        if (tasks?.Kl?.BaselineEngine is { } klEngine && !SweepEngines.Names.Contains(klEngine))
            Fail("tasks.kl.baselineEngine", $"unknown engine '{klEngine}'; known: {string.Join(", ", SweepEngines.Names)}");
        for (int i = 0; i < (spec.Formats?.Count ?? 0); i++)
        {
            var format = FormatRegistry.TryGet(spec.Formats![i] ?? "");
            // llama.cpp's own file types (Q4_K_M …) are formats of the llama.cpp engine.
            if (format is null && SweepEngines.IsLlamaCppFileType(spec.Formats[i]))
            {
                if (!SweepEngines.Of(spec).Contains(SweepEngines.LlamaCpp))
                    Fail($"formats[{i}]", $"'{spec.Formats[i]}' is a llama.cpp file type: add \"llama.cpp\" to engines");
                if (Compression.Engines.LlamaCpp.LlamaCppQuantizer.Get(spec.Formats[i]).NeedsImatrix && spec.Calibration is null)
                    Fail($"formats[{i}]", $"llama.cpp's {spec.Formats[i]} needs an importance matrix: add a calibration set " +
                        "{\"file\": TEXT_OR_JSONL, \"sequences\": N, \"length\": L, \"seed\": S}, which every llama.cpp type is then quantized with");
                continue;
            }
            if (format is null)
                Fail($"formats[{i}]", $"unknown format '{spec.Formats[i]}'; known: {string.Join(", ", FormatRegistry.All.Select(f => f.Name))}");
            else if (!format.CanQuantize) Fail($"formats[{i}]", $"format '{format.Name}' cannot be produced by quantization");
        }
        if (spec.Formats is { } fs && fs.Distinct(StringComparer.OrdinalIgnoreCase).Count() != fs.Count) Fail("formats", "a format is listed twice");
        if (spec.Policies is { Count: 0 }) Fail("policies", "empty list; omit it for [\"default\"]");
        for (int i = 0; i < (spec.Policies?.Count ?? 0); i++)
            if (spec.Policies![i] is { } pl && pl.StartsWith(Quantization.Planning.PlanFile.PolicyPrefix, StringComparison.Ordinal))
            {
                if (pl.Length == Quantization.Planning.PlanFile.PolicyPrefix.Length) Fail($"policies[{i}]", "'plan:' needs a plan file (plan:results/plans/plan-3.0bpw.json)");
            }
            else if (!PolicyNames.Contains(spec.Policies[i]))
                Fail($"policies[{i}]", $"unknown policy '{spec.Policies[i]}'; known: {string.Join(", ", PolicyNames)}, or plan:FILE (a plan from compress plan --out)");
        if (spec.Methods is { Count: 0 }) Fail("methods", "empty list; omit it for [\"rtn\"]");
        if (spec.Methods is { } ms && ms.Distinct(StringComparer.OrdinalIgnoreCase).Count() != ms.Count) Fail("methods", "a method is listed twice");
        for (int i = 0; i < (spec.Methods?.Count ?? 0); i++)
        {
            var method = Quantization.Methods.MethodRegistry.TryGet(spec.Methods![i] ?? "");
            if (method is null)
                Fail($"methods[{i}]", $"unknown method '{spec.Methods[i]}'; known: {string.Join(", ", Quantization.Methods.MethodRegistry.All.Select(m => m.Name))}");
            foreach (string f in spec.Formats ?? [])
                if (FormatRegistry.TryGet(f) is { } format && !method!.Supports(format))
                    Fail($"methods[{i}]", $"method '{method.Name}' cannot produce format '{format.Name}'");
            if (method!.NeedsCalibration && spec.Calibration is null)
                Fail("calibration", $"required by method '{method.Name}': {{\"file\": TEXT_OR_JSONL, \"sequences\": N, \"length\": L, \"seed\": S}}");
        }
        if (spec.Qat is { } qat)
        {
            if (spec.Model is null) Fail("qat", "QAT cells need a model");
            if (qat.Cells is not { Count: > 0 }) Fail("qat.cells", "required: one or more {\"method\": \"qat\"|\"qat+kd\", \"format\": F, \"policy\": \"pure\"|\"default\"}");
            if (string.IsNullOrWhiteSpace(qat.Train)) Fail("qat.train", "required (training text, documents separated by blank lines)");
            if (string.IsNullOrWhiteSpace(qat.Valid)) Fail("qat.valid", "required (validation text)");
            for (int i = 0; i < qat.Cells!.Count; i++)
            {
                var cell = qat.Cells[i];
                if (!Training.Qat.QatMethod.IsQat(cell.Method ?? ""))
                    Fail($"qat.cells[{i}].method", $"'{cell.Method}': expected {Training.Qat.QatMethod.Plain} or {Training.Qat.QatMethod.Distilled}");
                var format = FormatRegistry.TryGet(cell.Format ?? "");
                if (format is null) Fail($"qat.cells[{i}].format", $"unknown format '{cell.Format}'; known: {string.Join(", ", FormatRegistry.All.Select(f => f.Name))}");
                else if (!format.CanQuantize || format.IsFloat) Fail($"qat.cells[{i}].format", $"'{format.Name}' is not a quantized format the workbench can produce");
                if (cell.Policy is not (null or "pure" or "default")) Fail($"qat.cells[{i}].policy", $"'{cell.Policy}': expected pure or default");
            }
            if (qat.Cells.GroupBy(c => (c.Method, c.Format?.ToLowerInvariant(), c.Policy ?? "pure")).Any(g => g.Count() > 1)) Fail("qat.cells", "a cell is listed twice");
            for (int i = 0; i < qat.Cells.Count; i++)
            {
                try { QatOptions(spec, i, "model").Validate(); }
                catch (ArgumentException e) { Fail(i == 0 ? "qat" : $"qat.cells[{i}]", e.Message); }
            }
            if (qat.BatchSize < 1 || qat.SequenceLength < 2 || qat.EvalInterval < 0 || qat.EvalBatches < 0 || qat.CheckpointInterval < 0 || qat.Threads < 0 || qat.WarmupSteps < 0)
                Fail("qat", "batchSize, sequenceLength must be positive; evalInterval, evalBatches, checkpointInterval, threads, warmupSteps non-negative");
        }
        if (spec.Calibration is { } cal)
        {
            if (string.IsNullOrWhiteSpace(cal.File)) Fail("calibration.file", "required (a text or JSONL file)");
            if (cal.Sequences < 1) Fail("calibration.sequences", $"must be positive, got {cal.Sequences}");
            if (cal.Length < 2) Fail("calibration.length", $"must be at least 2, got {cal.Length}");
        }
        if (spec.Seeds is { Count: 0 }) Fail("seeds", "empty list; omit it for [1234]");
        if (spec.Seeds is { } seeds && seeds.Distinct().Count() != seeds.Count) Fail("seeds", "a seed is listed twice");
        for (int i = 0; i < (spec.SizeTable?.Count ?? 0); i++)
            if (!LlamaConfig.PresetNames.Contains(spec.SizeTable![i]))
                Fail($"sizeTable[{i}]", $"unknown config preset '{spec.SizeTable[i]}'; known: {string.Join(", ", LlamaConfig.PresetNames)}");
        for (int i = 0; i < (spec.Prepare?.Count ?? 0); i++)
            if (string.IsNullOrWhiteSpace(spec.Prepare![i])) Fail($"prepare[{i}]", "empty preset name");
        if (spec.Output is { } o && string.IsNullOrWhiteSpace(o)) Fail("output", "empty folder name");

        if (tasks?.Perplexity is { } ppl)
        {
            if (string.IsNullOrWhiteSpace(ppl.File)) Fail("tasks.perplexity.file", "required (a raw text file)");
            if (ppl.Context < 2) Fail("tasks.perplexity.context", $"must be at least 2, got {ppl.Context}");
            if (ppl.Stride is < 1 || ppl.Stride > ppl.Context - 1) Fail("tasks.perplexity.stride", $"must be in [1, {ppl.Context - 1}], got {ppl.Stride}");
            if (ppl.MaxTokens is < 1) Fail("tasks.perplexity.maxTokens", $"must be positive, got {ppl.MaxTokens}");
        }
        if (tasks?.Kl is { } kl)
        {
            if (string.IsNullOrWhiteSpace(kl.File)) Fail("tasks.kl.file", "required (a raw text file)");
            if (kl.Context < 2) Fail("tasks.kl.context", $"must be at least 2, got {kl.Context}");
            if (kl.MaxTokens is < 1) Fail("tasks.kl.maxTokens", $"must be positive, got {kl.MaxTokens}");
            if (spec.Formats is not { Count: > 0 } && spec.Qat is null && kl.BaselineEngine is null)
                Fail("tasks.kl", "KL divergence compares quantized formats with the baseline: list at least one format");
        }
        if (tasks?.Choice is { } choice)
        {
            if (choice.Files is not { Count: > 0 }) Fail("tasks.choice.files", "required: one or more JSONL files (globs allowed)");
            for (int i = 0; i < choice.Files!.Count; i++)
                if (string.IsNullOrWhiteSpace(choice.Files[i])) Fail($"tasks.choice.files[{i}]", "empty path");
            if (choice.FewShot < 0) Fail("tasks.choice.fewShot", $"must be 0 or more, got {choice.FewShot}");
            if (choice.Limit is < 1) Fail("tasks.choice.limit", $"must be positive, got {choice.Limit}");
        }
        if (tasks?.Throughput is { } tp)
        {
            if (tp.Prefill < 1) Fail("tasks.throughput.prefill", $"must be positive, got {tp.Prefill}");
            if (tp.Decode < 1) Fail("tasks.throughput.decode", $"must be positive, got {tp.Decode}");
            if (tp.Repetitions < 1) Fail("tasks.throughput.repetitions", $"must be positive, got {tp.Repetitions}");
            if (tp.Warmup < 0) Fail("tasks.throughput.warmup", $"must be 0 or more, got {tp.Warmup}");
        }
        if (spec.Baseline == false && spec.Formats is not { Count: > 0 } && spec.Qat is null && anyTask)
            Fail("baseline", "false with no formats leaves nothing to evaluate");
        return spec;
    }

    /// <summary>Makes every path of the spec absolute against <paramref name="baseDirectory"/> (globs are kept as patterns).</summary>
    public static ExperimentSpec Resolve(ExperimentSpec spec, string baseDirectory)
    {
        string Abs(string p) => Path.GetFullPath(p, baseDirectory);
        var tasks = spec.Tasks;
        return spec with
        {
            Model = spec.Model is { Path: { } mp } m ? m with { Path = Abs(mp) } : spec.Model,
            Output = Abs(spec.Output ?? "results"),
            Calibration = spec.Calibration is { File: { } cf0 } cal ? cal with { File = Abs(cf0) } : spec.Calibration,
            Qat = spec.Qat is { } q ? q with
            {
                Train = q.Train is { } qt ? Abs(qt) : null, Valid = q.Valid is { } qv ? Abs(qv) : null,
                Teacher = q.Teacher is { } th ? Abs(th) : null, Output = Abs(q.Output ?? ".cache/qat"),
            } : null,
            Policies = spec.Policies?.Select(p => p.StartsWith(Quantization.Planning.PlanFile.PolicyPrefix, StringComparison.Ordinal)
                ? Quantization.Planning.PlanFile.PolicyPrefix + Abs(p[Quantization.Planning.PlanFile.PolicyPrefix.Length..]) : p).ToList(),
            Tasks = tasks is null ? null : tasks with
            {
                Perplexity = tasks.Perplexity is { File: { } pf } p ? p with { File = Abs(pf) } : tasks.Perplexity,
                Kl = tasks.Kl is { File: { } kf } k ? k with { File = Abs(kf) } : tasks.Kl,
                Choice = tasks.Choice is { Files: { } cf } c ? c with { Files = cf.Select(Abs).ToList() } : tasks.Choice,
            },
        };
    }

    /// <summary>The training settings of QAT cell <paramref name="cell"/> of a validated spec, for the model at <paramref name="modelPath"/>.</summary>
    public static Training.Qat.QatOptions QatOptions(ExperimentSpec spec, int cell, string modelPath)
    {
        var q = spec.Qat!;
        var c = q.Cells![cell];
        return new Training.Qat.QatOptions
        {
            Model = modelPath, Teacher = q.Teacher, Format = FormatRegistry.Get(c.Format!).Name, Policy = c.Policy ?? "pure",
            Alpha = c.Method == Training.Qat.QatMethod.Distilled ? q.Alpha : 0, Temperature = q.Temperature,
            TrainFile = q.Train!, ValidFile = q.Valid!, MaxTrainTokens = q.MaxTrainTokens, Steps = q.Steps, LearningRate = q.LearningRate,
            MinLearningRateRatio = q.MinLearningRateRatio, WarmupSteps = q.WarmupSteps, BatchSize = q.BatchSize, SequenceLength = q.SequenceLength,
            Seed = q.Seed, EvalInterval = q.EvalInterval, EvalBatches = q.EvalBatches, CheckpointInterval = q.CheckpointInterval, Threads = q.Threads,
            Scale = q.Scale, HiddenWeight = c.Method == Training.Qat.QatMethod.Distilled ? q.HiddenWeight : 0,
        };
    }

    /// <summary>Where QAT cell <paramref name="cell"/> of a resolved spec trains: {qat.output}/{method}-{format}-{policy}.</summary>
    public static string QatDirectory(ExperimentSpec spec, int cell)
    {
        var c = spec.Qat!.Cells![cell];
        return Path.Combine(spec.Qat.Output ?? ".cache/qat", $"{c.Method!.Replace('+', '-')}-{FormatRegistry.Get(c.Format!).Name}-{c.Policy ?? "pure"}");
    }

    /// <summary>
    /// Expands <paramref name="patterns"/> (absolute paths; '*' and '?' allowed in the file name) into existing files,
    /// sorted within each pattern, duplicates dropped. A pattern matching nothing is an error naming the field.
    /// </summary>
    public static IReadOnlyList<string> ExpandFiles(IReadOnlyList<string> patterns, string source, string field)
    {
        var files = new List<string>();
        for (int i = 0; i < patterns.Count; i++)
        {
            string pattern = patterns[i];
            string name = Path.GetFileName(pattern);
            string directory = Path.GetDirectoryName(pattern) ?? ".";
            if (directory.IndexOfAny(['*', '?']) >= 0)
                throw new InvalidDataException($"{source}: {field}[{i}]: wildcards are only allowed in the file name, not in '{directory}'");
            string[] matches = name.IndexOfAny(['*', '?']) >= 0
                ? (Directory.Exists(directory) ? Directory.GetFiles(directory, name).Order(StringComparer.Ordinal).ToArray() : [])
                : File.Exists(pattern) ? [pattern] : [];
            if (matches.Length == 0) throw new InvalidDataException($"{source}: {field}[{i}]: '{pattern}' matches no file");
            files.AddRange(matches.Where(m => !files.Contains(m)));
        }
        return files;
    }

    private static string FirstSentence(string message)
    {
        int cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
