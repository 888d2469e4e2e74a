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
            var choiceFiles = spec.Tasks?.Choice?.Files is { } patterns
                ? ExperimentSpecLoader.ExpandFiles(patterns, source, "tasks.choice.files") : [];

            string modelName, storedFormat;
            using (var checkpoint = CheckpointOpener.Open(path))
            {
                modelName = EvaluatedModel.NameOf(checkpoint.Path);
                storedFormat = EvaluatedModel.StoredFormat(checkpoint.Tensors.Values.GroupBy(t => t.Format.Name).ToDictionary(g => g.Key, g => g.Count()));
            }
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
        _progress.Activity($"loading {Path.GetFileName(path.TrimEnd('/', '\\'))}");
        using var session = ModelSession.Open(path, new ModelSessionOptions
        {
            PackedLayers = PackedLoading.Hooks,
            Progress = new InlineProgress<(int Done, int Total, string Name)>(p => _progress.Progress(new EvaluationProgress(p.Done, p.Total, "tensors"))),
        });
        var baseline = EvaluatedModel.Baseline(session);
        foreach (var group in groups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            bool errors = needsErrors(group);
            if (group.Cells.Count == 0 && !errors) continue;
            if (group.IsBaseline)
            {
                RunCells(group, baseline, baseline, store, written, cancellationToken);
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
            RunCells(group, baseline, quantized, store, written, cancellationToken);
        }
    }

    private Quantization.Calibration.CalibrationSet? _calibration;

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
                CellKind.Throughput => ThroughputCell.Run(model, new ThroughputOptions
                {
                    PrefillTokens = tasks.Throughput!.Prefill, DecodeTokens = tasks.Throughput.Decode,
                    Repetitions = tasks.Throughput.Repetitions, WarmupRuns = tasks.Throughput.Warmup, Seed = cell.Key.Seed,
                    ReadBandwidthBytesPerSecond = tasks.Throughput.ReadBandwidth,
                }, relay, cancellationToken),
                _ => throw new InvalidOperationException($"unknown cell kind {cell.Kind}"),
            };
            if (group.Method != ResultKey.Rtn)
                record = record with { Method = group.Method, Calibration = _calibration?.Spec.Label };
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
