// SweepRunner: runs an experiment spec cell by cell — skipping cells already in the store, loading the baseline once,
// quantizing once per (format, policy) — then writes the report.
using Compression.Checkpoints;
using Compression.Evaluation;
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.MultipleChoice;
using Compression.Evaluation.Throughput;
using Compression.Inference;
using Compression.Quantization;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>How a sweep treats existing records and the report.</summary>
public sealed record SweepOptions
{
    /// <summary>Skip cells whose record exists (resume). False measures every cell again, replacing its record.</summary>
    public bool SkipCompleted { get; init; } = true;

    /// <summary>Write REPORT.md, results.csv and charts at the end.</summary>
    public bool WriteReport { get; init; } = true;
}

/// <summary>What a sweep did.</summary>
/// <param name="Output">The results folder.</param>
/// <param name="TotalCells">Cells in the plan.</param>
/// <param name="Skipped">Cells found complete and not run again.</param>
/// <param name="Records">Records written by this run, in order.</param>
/// <param name="Report">The report written, or null when not asked for.</param>
public sealed record SweepOutcome(string Output, int TotalCells, int Skipped, IReadOnlyList<ResultRecord> Records, ReportOutput? Report);

/// <summary>
/// Runs a validated spec (see <see cref="ExperimentSpecLoader"/>). Each finished cell's record is written atomically
/// before the next cell starts, so a cancelled or crashed sweep keeps every completed cell and a re-run resumes
/// where it stopped. Cancellation surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
public sealed class SweepRunner(ExperimentSpec spec, string source, SweepOptions? options = null, ISweepProgress? progress = null)
{
    private readonly SweepOptions _options = options ?? new SweepOptions();
    private readonly ISweepProgress _progress = progress ?? NullSweepProgress.Instance;

    /// <summary>Runs the sweep.</summary>
    public SweepOutcome Run(CancellationToken cancellationToken = default)
    {
        var presetProgress = new InlineProgress<string>(m => _progress.Activity(m));
        foreach (string preset in spec.Prepare ?? [])
        {
            _progress.Activity($"preparing preset {preset}");
            ModelPresets.Resolve(preset, presetProgress, cancellationToken);
        }
        string output = spec.Output ?? Path.GetFullPath("results");
        var store = new ResultsStore(output);
        Compression.IO.OutputFile.EnsureFolder(output, store.Root); // a file in the way is one line naming the results path
        // Only a sweep that writes the report sets its title; a one-off eval into the same folder leaves it alone.
        if (_options.WriteReport) ReportInputs.SaveTitle(store.Root, spec.Name is { Length: > 0 } n ? n : "Compression results");
        if (spec.SizeTable is { Count: > 0 } presets) ReportInputs.SaveSizeTable(store.Root, ReportInputs.BuildSizeTable(presets));

        var written = new List<ResultRecord>();
        int total = 0, skipped = 0;
        if (spec.Model is { } modelSource)
        {
            string path = modelSource.Preset is { } preset
                ? ResolvePreset(preset, presetProgress, cancellationToken)
                : modelSource.Path!;
            if (!File.Exists(path) && !Directory.Exists(path))
                throw new InvalidDataException($"{source}: model.path: '{path}' does not exist");
            CheckTaskFiles();
            CheckOnnxFolder(path);
            var choiceFiles = spec.Tasks?.Choice?.Files is { } patterns
                ? ExperimentSpecLoader.ExpandFiles(patterns, source, "tasks.choice.files") : [];

            var (described, storedFormat) = Describe(path);
            string modelName = described.Name;
            var groups = SweepPlan.Expand(spec, modelName, storedFormat, choiceFiles);
            total = groups.Sum(g => g.Cells.Count);
            var pending = groups.Select(g => g with { Cells = g.Cells.Where(c => !_options.SkipCompleted || !store.Contains(c.Key)).ToList() }).ToList();
            skipped = total - pending.Sum(g => g.Cells.Count);
            _progress.Planned(total, skipped);

            var tensorErrors = ReportInputs.LoadTensorErrors(store.Root).ToList();
            bool NeedsErrors(SweepGroup g) => spec.TensorErrors == true && !g.IsBaseline
                && g.Policy == pending.First(x => x.Format == g.Format && !x.IsBaseline).Policy
                && !tensorErrors.Any(e => e.Format == g.Format);
            if (pending.Any(g => g.Cells.Count > 0 || NeedsErrors(g)))
                RunGroups(path, pending, NeedsErrors, tensorErrors, store, written, cancellationToken);
        }
        else _progress.Planned(0, 0);

        ReportOutput? report = null;
        if (_options.WriteReport)
        {
            _progress.Activity("writing report");
            report = ReportWriter.Generate(store, ReportInputs.Options(store.Root));
        }
        return new SweepOutcome(store.Root, total, skipped, written, report);
    }

    private string ResolvePreset(string preset, IProgress<string> progress, CancellationToken cancellationToken)
    {
        if (!ModelPresets.Contains(preset))
            throw new InvalidDataException($"{source}: model.preset: no model preset '{preset}'; registered: {(ModelPresets.Names.Count == 0 ? "none" : string.Join(", ", ModelPresets.Names))}");
        _progress.Activity($"preparing preset {preset}");
        return ModelPresets.Resolve(preset, progress, cancellationToken);
    }

    /// <summary>
    /// An exported ONNX folder as the model: ONNX Runtime evaluates it as it is — no other engine can load it, and no format
    /// can be made from it (formats come from the checkpoint it was exported from).
    /// </summary>
    private void CheckOnnxFolder(string path)
    {
        // A folder for ONNX Runtime alone that is no Hugging Face checkpoint is meant as an export: say what it lacks.
        if (SweepEngines.Of(spec).All(e => e == SweepEngines.OnnxRuntime) && Directory.Exists(path) && !File.Exists(Path.Combine(path, "config.json")))
            Export.Onnx.OnnxModelFolder.Open(path);
        if (!Export.Onnx.OnnxModelFolder.IsExport(path)) return;
        string? other = SweepEngines.Of(spec).FirstOrDefault(e => e != SweepEngines.OnnxRuntime)
            ?? (spec.Tasks?.Kl?.BaselineEngine is { } b && b != SweepEngines.OnnxRuntime ? b : null)
            ?? (spec.Qat?.Cells is { Count: > 0 } ? SweepEngines.TorchSharp : null);
        if (other is not null)
            throw new NotSupportedException($"{path}: an ONNX Runtime model folder (compress export --to onnx); the {other} engine cannot run it: use --engine onnxruntime (in a spec: \"engines\": [\"onnxruntime\"])");
        if (spec.Formats is { Count: > 0 } formats)
            throw new ArgumentException($"{source}: formats [{string.Join(", ", formats)}]: {path} is an ONNX model folder, evaluated as exported; export each format from the checkpoint (compress export --to onnx --format F) and evaluate those folders, or give the checkpoint itself");
    }

    private void CheckTaskFiles()
    {
        if (spec.Tasks?.Perplexity is { File: { } ppl } && !File.Exists(ppl))
            throw new InvalidDataException($"{source}: tasks.perplexity.file: '{ppl}' does not exist");
        if (spec.Tasks?.Kl is { File: { } kl } && !File.Exists(kl))
            throw new InvalidDataException($"{source}: tasks.kl.file: '{kl}' does not exist");
    }

    private void RunGroups(string path, IReadOnlyList<SweepGroup> groups, Func<SweepGroup, bool> needsErrors, List<TensorError> tensorErrors,
        ResultsStore store, List<ResultRecord> written, CancellationToken cancellationToken)
    {
        // The workbench loads the model only when it runs a cell or is the KL reference of one: a sweep on llama.cpp alone
        // evaluates a GGUF in llama.cpp's own types, which the workbench cannot compute with.
        static bool HasKl(SweepGroup g) => g.Cells.Any(c => c.Kind == CellKind.KlDivergence);
        bool workbench = groups.Any(g => (g.Cells.Count > 0 || needsErrors(g))
            && (g.Engine == SweepEngines.TorchSharp || HasKl(g) && SweepPlan.KlBaselineEngine(spec, g.Engine) == SweepEngines.TorchSharp));
        ModelSession? session = null;
        if (workbench)
        {
            _progress.Activity($"loading {Path.GetFileName(path.TrimEnd('/', '\\'))}");
            session = ModelSession.Open(path, new ModelSessionOptions
            {
                PackedLayers = PackedLoading.Hooks,
                Progress = new InlineProgress<(int Done, int Total, string Name)>(p => _progress.Progress(new EvaluationProgress(p.Done, p.Total, "tensors"))),
            });
        }
        using var ownedSession = session;
        var baseline = session is null ? null : EvaluatedModel.Baseline(session);
        var (info, storedFormat) = baseline is not null ? (baseline.Info, baseline.Format) : Describe(path);
        using var artifacts = new EngineArtifacts(path, info, storedFormat, new InlineProgress<string>(m => _progress.Activity(m)), LlamaCppCalibration);
        // Each engine's baseline, opened when a KL cell compares with it (another engine's baseline may be the reference).
        var baselines = new Dictionary<string, EvaluatedModel>();
        if (baseline is not null) baselines[SweepEngines.TorchSharp] = baseline;
        EvaluatedModel BaselineOn(string engine) => baselines.TryGetValue(engine, out var b) ? b
            : baselines[engine] = artifacts.Open(new SweepGroup(storedFormat, EvaluatedModel.BaselinePolicy, true, [], ResultKey.Rtn, engine));
        foreach (var group in groups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool errors = needsErrors(group);
            if (group.Cells.Count == 0 && !errors) continue;
            var klBaseline = HasKl(group) ? BaselineOn(SweepPlan.KlBaselineEngine(spec, group.Engine)) : null;
            if (group.Engine != SweepEngines.TorchSharp)
            {
                _progress.Activity($"preparing {group.Format} ({group.Policy}) for {group.Engine}");
                var onEngine = group.IsBaseline ? BaselineOn(group.Engine) : artifacts.Open(group);
                RunCells(group, klBaseline ?? onEngine, onEngine, store, written, cancellationToken);
                continue;
            }
            if (session is null || baseline is null) throw new InvalidOperationException("the workbench's cells need the model loaded");
            if (group.IsBaseline)
            {
                RunCells(group, klBaseline ?? baseline, baseline, store, written, cancellationToken);
                continue;
            }
            if (Training.Qat.QatMethod.IsQat(group.Method))
            {
                RunQatGroup(group, session, baseline, store, written, cancellationToken);
                continue;
            }
            var policy = SweepPlan.Policy(group.PolicySource ?? group.Policy, FormatRegistry.Get(group.Format));
            var method = Quantization.Methods.MethodRegistry.Get(group.Method);
            _progress.Activity($"quantizing to {group.Format} ({group.Policy}{(group.Method == ResultKey.Rtn ? "" : ", " + group.Method)})");
            var tensorProgress = new InlineProgress<(int Done, int Total, string Name)>(p => _progress.Progress(new EvaluationProgress(p.Done, p.Total, "tensors")));
            using var quantizedModel = method.NeedsCalibration
                ? Quantization.Calibration.CalibratedQuantizer.Apply(session.Model, policy, method, Calibration(session).Sequences, tensorProgress)
                : ModelQuantizer.Apply(session.Model, policy, tensorProgress);
            var quantized = baseline.Quantized(quantizedModel, policy);
            if (errors)
            {
                _progress.Activity($"per-tensor error of {group.Format}");
                // Measured on the checkpoint itself, streaming tensor by tensor (the same code serves an 8B checkpoint).
                if (!tensorErrors.Any(e => e.Format == group.Format))
                {
                    using var checkpoint = Checkpoints.CheckpointOpener.Open(session.Path);
                    tensorErrors.AddRange(QuantizationError.Measure(checkpoint, FormatRegistry.Get(group.Format)));
                }
                ReportInputs.SaveTensorErrors(store.Root, tensorErrors);
            }
            RunCells(group, klBaseline ?? baseline, quantized, store, written, cancellationToken);
        }
    }

    /// <summary>
    /// A QAT group: train the cell (or resume, or reuse a finished run with the same settings), then evaluate the GGUF it
    /// exported, loaded packed like any other file — so what is measured is the file llama.cpp would run. The run's
    /// summary (its training curve) is copied into the results folder for the report's training-curve chart.
    /// </summary>
    private void RunQatGroup(SweepGroup group, ModelSession session, EvaluatedModel baseline, ResultsStore store,
        List<ResultRecord> written, CancellationToken cancellationToken)
    {
        int index = spec.Qat!.Cells!.Select((c, i) => (c, i)).First(x => x.c.Method == group.Method
            && FormatRegistry.Get(x.c.Format!).Name == group.Format && SweepPlan.Policy(x.c.Policy ?? "pure", FormatRegistry.Get(group.Format)).Label == group.Policy).i;
        var options = ExperimentSpecLoader.QatOptions(spec, index, session.Path);
        string dir = ExperimentSpecLoader.QatDirectory(spec, index);
        _progress.Activity($"{group.Method} to {group.Format} ({group.Policy}): training in {dir}");
        var summary = Training.Qat.QatRun.Run(options, dir, new InlineProgress<string>(m => _progress.Activity($"{group.Method}: {m}")),
            p => _progress.Progress(new EvaluationProgress(p.Step, p.TotalSteps, "steps")), cancellationToken)
            ?? throw new InvalidOperationException($"{dir}: the QAT run stopped before its last step");
        if (summary.BaselineLoss is null)
        {
            var tokenizer = session.RequireTokenizer();
            summary = summary with { BaselineLoss = Training.Qat.QatRun.ValidationLoss(session.Model, Training.ProxyModel.EncodeDocuments(tokenizer, options.ValidFile), options) };
        }
        if (summary.ExportCheck is null)
        {
            _progress.Activity($"{group.Method}: checking {Path.GetFileName(summary.Gguf)} against the trained student (workbench and llama.cpp)");
            var valid = Training.ProxyModel.EncodeDocuments(session.RequireTokenizer(), options.ValidFile);
            summary = summary with
            {
                ExportCheck = Training.Qat.ExportCheck.Measure(Path.Combine(dir, Training.Qat.QatRun.CheckpointFolder), summary.Gguf,
                    options.QuantizationPolicy, valid.AsSpan(0, Math.Min(options.SequenceLength, valid.Length)), options.LearnedScale),
            };
        }
        ReportInputs.SaveTrainingCurve(store.Root, summary);
        _progress.Activity($"loading {Path.GetFileName(summary.Gguf)}");
        using var trained = ModelSession.Open(summary.Gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var model = baseline.Quantized(trained.Model, options.QuantizationPolicy);
        RunCells(group, baseline, model, store, written, cancellationToken);
    }

    /// <summary>
    /// The model's name, parameter count and stored format, read without loading weights: a GGUF in llama.cpp's own
    /// types (Q4_K_M …) from its metadata, labelled by its most common ggml type ("q4_K"); an ONNX folder from its graph
    /// and export manifest.
    /// </summary>
    public static (ModelInfo Info, string StoredFormat) Describe(string path)
    {
        if (Export.Onnx.OnnxModelFolder.IsExport(path))
        {
            var folder = Export.Onnx.OnnxModelFolder.Open(path);
            return (new ModelInfo(EvaluatedModel.NameOf(path), Path.GetFullPath(path), folder.ParameterCount), folder.StoredFormat);
        }
        if (File.Exists(path))
        {
            using var file = Checkpoints.Gguf.GgufFile.OpenMetadata(path);
            if (file.ForeignTensors.Count > 0)
            {
                var summary = Checkpoints.Gguf.GgufSummary.Read(path);
                return (new ModelInfo(EvaluatedModel.NameOf(path), Path.GetFullPath(path), Model.LlamaTensorLayout.ParameterCount(summary.Config)), summary.MainType);
            }
        }
        using var checkpoint = CheckpointOpener.Open(path);
        return (new ModelInfo(EvaluatedModel.NameOf(checkpoint.Path), checkpoint.Path, Model.LlamaTensorLayout.ParameterCount(checkpoint.Config)),
            EvaluatedModel.StoredFormat(checkpoint.Tensors.Values.GroupBy(t => t.Format.Name).ToDictionary(g => g.Key, g => g.Count())));
    }

    private Quantization.Calibration.CalibrationSet? _calibration;

    /// <summary>The spec's calibration set as llama.cpp's importance matrix is computed on it (null: none in the spec).</summary>
    private Quantization.Calibration.CalibrationSpec? LlamaCppCalibration =>
        spec.Calibration is { File: { } file } c ? new(file, c.Sequences, c.Length, c.Seed) : null;

    /// <summary>The spec's calibration set, tokenized once with the model's tokenizer.</summary>
    private Quantization.Calibration.CalibrationSet Calibration(ModelSession session)
    {
        if (_calibration is not null) return _calibration;
        var c = spec.Calibration ?? throw new InvalidDataException($"{source}: calibration: required by a calibrated method");
        var tokenizer = session.Tokenizer ?? throw new InvalidDataException($"{session.Path}: the checkpoint has no tokenizer; calibration text needs one");
        _progress.Activity($"tokenizing the calibration set {Path.GetFileName(c.File)}");
        return _calibration = Quantization.Calibration.CalibrationSet.Load(
            new Quantization.Calibration.CalibrationSpec(c.File!, c.Sequences, c.Length, c.Seed), text => tokenizer.Encode(text, addBos: true));
    }

    private void RunCells(SweepGroup group, EvaluatedModel baseline, EvaluatedModel model, ResultsStore store,
        List<ResultRecord> written, CancellationToken cancellationToken)
    {
        var tasks = spec.Tasks!;
        var relay = new InlineProgress<EvaluationProgress>(_progress.Progress);
        foreach (var cell in group.Cells)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _progress.Activity(cell.Key.ToString(), cell);
            var record = cell.Kind switch
            {
                CellKind.Perplexity => PerplexityCell.Run(model, cell.File!, Window(tasks.Perplexity!.Context, tasks.Perplexity.Stride, tasks.Perplexity.MaxTokens, tasks.Perplexity.DocumentSeparator),
                    cell.Key.Seed, relay, cancellationToken),
                CellKind.KlDivergence => KlDivergenceCell.Run(baseline, model, cell.File!, Window(tasks.Kl!.Context, null, tasks.Kl.MaxTokens, tasks.Kl.DocumentSeparator),
                    cell.Key.Seed, relay, cancellationToken),
                CellKind.MultipleChoice => MultipleChoiceCell.Run(model, cell.File!,
                    new MultipleChoiceOptions { FewShot = tasks.Choice!.FewShot, Limit = tasks.Choice.Limit, Seed = cell.Key.Seed }, relay, cancellationToken),
                CellKind.Throughput => ThroughputCell.RunOn(model, new ThroughputOptions
                {
                    PrefillTokens = tasks.Throughput!.Prefill, DecodeTokens = tasks.Throughput.Decode,
                    Repetitions = tasks.Throughput.Repetitions, WarmupRuns = tasks.Throughput.Warmup, Seed = cell.Key.Seed,
                    ReadBandwidthBytesPerSecond = tasks.Throughput.ReadBandwidth,
                }, relay, cancellationToken),
                _ => throw new InvalidOperationException($"unknown cell kind {cell.Kind}"),
            };
            if (group.Method != ResultKey.Rtn)
                record = record with { Method = group.Method, Calibration = _calibration?.Spec.Label };
            else if (group.Engine == SweepEngines.LlamaCpp && !group.IsBaseline && SweepEngines.IsLlamaCppFileType(group.Format)
                     && LlamaCppCalibration is { } matrixSet)
                // llama.cpp's file types were quantized with the importance matrix of the spec's calibration set.
                record = record with { Calibration = matrixSet.Label };
            // A record filed under another key would never satisfy the skip check: fail loudly instead of re-running forever.
            if (record.Key != cell.Key) throw new InvalidOperationException($"cell {cell.Key} produced a record for {record.Key}");
            store.Save(record);
            written.Add(record);
            _progress.CellFinished(cell, record);
        }
    }

    private static WindowOptions Window(int context, int? stride, int? maxTokens, string? documentSeparator) =>
        new() { ContextLength = context, Stride = stride, MaxTokens = maxTokens, DocumentSeparator = documentSeparator };
}
