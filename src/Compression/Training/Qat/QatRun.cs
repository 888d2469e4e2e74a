// QatRun: a quantization-aware training run end to end — load the model and its teacher once, check they match, train
// the fake-quantized student (resumably), and export the trained masters as a GGUF of the format.
using System.Text.Json;
using System.Text.Json.Serialization;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Inference;
using Compression.IO;
using Compression.Model;
using Compression.Tokenization;

namespace Compression.Training.Qat;

/// <summary>What a finished run wrote into its output folder as <c>qat.json</c>.</summary>
public sealed record QatSummary
{
    [JsonPropertyName("options")] public required QatOptions Options { get; init; }
    [JsonPropertyName("method")] public required string Method { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; }
    [JsonPropertyName("tokens_seen")] public long TokensSeen { get; init; }
    /// <summary>Wall time of training and validation across resumes (not the final export).</summary>
    [JsonPropertyName("elapsed_seconds")] public double ElapsedSeconds { get; init; }
    [JsonPropertyName("tokens_per_second")] public double TokensPerSecond { get; init; }
    /// <summary>Validation at step 0: the student before training is the post-training (round-to-nearest) quantization.</summary>
    [JsonPropertyName("ptq")] public EvalRecord? Ptq { get; init; }
    [JsonPropertyName("final")] public EvalRecord? Final { get; init; }
    /// <summary>Every validation pass (step, loss, perplexity, KL from the teacher).</summary>
    [JsonPropertyName("curve")] public List<EvalRecord> Curve { get; init; } = [];
    /// <summary>The teacher's (float model's) cross-entropy on the same validation windows: the level QAT aims for.</summary>
    [JsonPropertyName("baseline_loss")] public double? BaselineLoss { get; init; }
    [JsonPropertyName("gguf")] public required string Gguf { get; init; }
    [JsonPropertyName("gguf_bytes")] public long GgufBytes { get; init; }
    /// <summary>The exported file's logits against the trained student's, in the workbench and in llama.cpp.</summary>
    [JsonPropertyName("export_check")] public ExportCheck? ExportCheck { get; init; }
    [JsonPropertyName("machine")] public string? Machine { get; init; }
}

/// <summary>Runs <see cref="QatOptions"/> into an output folder: <c>checkpoint/</c> (resumable), <c>model-FORMAT-POLICY.gguf</c>, <c>qat.json</c>.</summary>
public static class QatRun
{
    public const string CheckpointFolder = "checkpoint";
    public const string SummaryFileName = "qat.json";
    /// <summary>The run's settings inside each checkpoint, so a resume with other settings is refused.</summary>
    public const string OptionsFileName = "qat_options.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>The GGUF a run exports into <paramref name="outDir"/>.</summary>
    public static string GgufPath(string outDir, QatOptions o) => Path.Combine(outDir, $"model-{o.TensorFormat.Name}-{o.Policy}.gguf");

    /// <summary>The summary of a finished run in <paramref name="outDir"/> made with exactly <paramref name="o"/>, or null.</summary>
    public static QatSummary? Finished(string outDir, QatOptions o)
    {
        string path = Path.Combine(outDir, SummaryFileName);
        if (!File.Exists(path)) return null;
        QatSummary? s;
        try { s = JsonSerializer.Deserialize<QatSummary>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not a valid QAT summary ({e.Message})", e); }
        return s is not null && SameRun(s.Options, o) && File.Exists(s.Gguf) ? s : null;
    }

    /// <summary>
    /// Whether two option sets describe the same run. Paths compare by their last component, so a clone in another folder
    /// (or a spec resolved to absolute paths) recognises its run; the trainer checks the token streams' hashes on resume.
    /// </summary>
    public static bool SameRun(QatOptions a, QatOptions b) => Normalized(a) == Normalized(b);

    private static QatOptions Normalized(QatOptions o) => o with
    {
        Model = Leaf(o.Model), Teacher = Leaf(o.Teacher ?? o.Model), TrainFile = Leaf(o.TrainFile), ValidFile = Leaf(o.ValidFile),
    };

    private static string Leaf(string path) => Path.GetFileName(path.TrimEnd('/', '\\'));

    /// <summary>
    /// Trains (or resumes, or reuses when already finished with the same options) and exports. Cancellation stops after
    /// the current step with a checkpoint saved, then throws <see cref="OperationCanceledException"/>.
    /// </summary>
    /// <param name="stopAtStep">Stop after this many steps without exporting (tests and staged runs); null runs to the end.</param>
    public static QatSummary? Run(QatOptions o, string outDir, IProgress<string>? log = null, Action<TrainingProgress>? progress = null,
        CancellationToken cancel = default, int? stopAtStep = null)
    {
        o.Validate();
        if (stopAtStep is null && Finished(outDir, o) is { } done)
        {
            log?.Report($"reusing the finished run in {outDir}");
            return done;
        }
        if (!File.Exists(o.TrainFile)) throw new FileNotFoundException($"{o.TrainFile}: training text not found", o.TrainFile);
        if (!File.Exists(o.ValidFile)) throw new FileNotFoundException($"{o.ValidFile}: validation text not found", o.ValidFile);
        Directory.CreateDirectory(outDir);
        string checkpoint = Path.Combine(outDir, CheckpointFolder);

        log?.Report($"loading {o.Model}");
        using var source = ModelSession.Open(o.Model);
        var tokenizer = source.Tokenizer ?? throw new InvalidDataException($"{o.Model}: the model has no tokenizer; QAT reads text");
        ModelSession? teacherSession = null;
        try
        {
            // The teacher is loaded once and only ever runs under no_grad; the student is a copy, so a teacher that is the
            // model itself (plain QAT's validation KL, or self-distillation from the float model) is the loaded source.
            if (o.Teacher is { } t && !SamePath(t, o.Model))
            {
                log?.Report($"loading the teacher {t}");
                teacherSession = ModelSession.Open(t);
            }
            var teacher = teacherSession ?? source;
            CheckCompatible(o.Teacher ?? o.Model, teacher, o.Model, source);

            log?.Report($"tokenizing {Path.GetFileName(o.TrainFile)} and {Path.GetFileName(o.ValidFile)}");
            int[] train = ProxyModel.EncodeDocuments(tokenizer, o.TrainFile);
            if (o.MaxTrainTokens > 0 && train.Length > o.MaxTrainTokens) train = train[..o.MaxTrainTokens];
            int[] valid = ProxyModel.EncodeDocuments(tokenizer, o.ValidFile);

            var objective = new DistillationObjective(teacher.Model, o.Alpha, o.Temperature, o.HiddenWeight);
            var policy = o.QuantizationPolicy;
            void WriteOptions(string dir) => File.WriteAllText(Path.Combine(dir, OptionsFileName), JsonSerializer.Serialize(o, Json));
            Trainer Create(TrainingOptions options) =>
                new(options, QatModel.Create(source.Model, policy, o.LearnedScale), objective, train, valid, checkpoint, new QatWeightStore(), WriteOptions);

            bool resuming = File.Exists(Path.Combine(checkpoint, TrainerState.FileName)) || Directory.Exists(CheckpointDirectory.PreviousPath(checkpoint));
            using var trainer = resuming
                ? Trainer.Resume(checkpoint, state => { CheckSameRun(checkpoint, o); return Create(state.Options); })
                : Create(o.Training(source.Config));
            if (trainer.Evaluations.Count == 0 && trainer.Step == 0)
            {
                log?.Report("validating the post-training quantization (step 0)");
                trainer.Validate();
            }
            log?.Report((trainer.Step > 0 ? $"resuming QAT at step {trainer.Step}" : $"QAT ({o.Method}) to {o.TensorFormat.Name} {o.Policy}: {o.Steps} steps") + ScaleNote(o));
            var result = trainer.Train(progress, cancel, stopAtStep);
            if (result.Cancelled) throw new OperationCanceledException($"QAT was interrupted at step {result.Step}; the checkpoint in {checkpoint} is kept and the next run resumes");
            if (trainer.Step < o.Steps) return null;

            string gguf = GgufPath(outDir, o);
            log?.Report($"exporting {gguf}" + (o.LearnedScale ? " with the learned block scales in the blocks' fp16 scale fields" : ""));
            long bytes = Export(checkpoint, source, policy, gguf, o.LearnedScale);
            var summary = new QatSummary
            {
                Options = o,
                Method = o.Method,
                Steps = trainer.Step,
                TokensSeen = (long)trainer.Step * trainer.Options.TokensPerStep,
                ElapsedSeconds = result.Elapsed.TotalSeconds,
                // Over the whole run, validation included (a resumed or re-exported run has no steps of its own to time).
                TokensPerSecond = result.Elapsed.TotalSeconds > 0 ? (long)trainer.Step * trainer.Options.TokensPerStep / result.Elapsed.TotalSeconds : 0,
                Ptq = trainer.Evaluations.FirstOrDefault(e => e.Step == 0),
                Final = trainer.Evaluations.Count > 0 ? trainer.Evaluations[^1] : null,
                Curve = [.. trainer.Evaluations],
                BaselineLoss = ValidationLoss(teacher.Model, valid, o),
                ExportCheck = ExportCheck.Measure(checkpoint, gguf, policy, valid.AsSpan(0, Math.Min(o.SequenceLength, valid.Length)), o.LearnedScale),
                Gguf = gguf,
                GgufBytes = bytes,
                Machine = Reporting.MachineInfo.Current.Summary,
            };
            AtomicFile.WriteAllText(Path.Combine(outDir, SummaryFileName), JsonSerializer.Serialize(summary, Json) + "\n");
            return summary;
        }
        finally { teacherSession?.Dispose(); }
    }

    /// <summary>
    /// Mean next-token cross-entropy of <paramref name="model"/> on the validation windows a run with <paramref name="o"/>
    /// scores (the trainer's evenly spaced windows), e.g. the float teacher's level for the training-curve chart.
    /// </summary>
    public static double ValidationLoss(LlamaModel model, ReadOnlyMemory<int> valid, QatOptions o)
    {
        var windows = new TokenWindows(valid, o.SequenceLength, "valid");
        long[] starts = windows.EvenlySpacedStarts(o.EvalBatches * o.BatchSize);
        using var noGrad = TorchSharp.torch.no_grad();
        double sum = 0;
        long count = 0;
        for (int i = 0; i < starts.Length; i += o.BatchSize)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var (inputs, targets) = windows.Batch(starts.AsSpan(i, Math.Min(o.BatchSize, starts.Length - i)));
            var sums = NextTokenObjective.Instance.Validate(model, inputs, targets);
            sum += sums.CrossEntropy;
            count += sums.Tokens;
        }
        return count == 0 ? double.NaN : sum / count;
    }

    /// <summary>" (block scales: learned, LSQ)" for a learned-scale run, else empty: what the console says about the scales.</summary>
    public static string ScaleNote(QatOptions o) => o.LearnedScale ? " (block scales: learned, LSQ; exported in each block's fp16 scale field)" : "";

    /// <summary>
    /// Writes the trained master weights of <paramref name="checkpoint"/> as a GGUF: every tensor quantized by the format's
    /// own quantizer under the policy — the very projection the student trained through — with the source's tokenizer.
    /// With <paramref name="learnedScale"/>, a tensor with learned scales (in the checkpoint's <see cref="QatWeightStore.ScalesFileName"/>)
    /// is packed with them instead (<see cref="LearnedScale.EncodeRow"/>), and the file's general.name ends in "-qat-lsq".
    /// </summary>
    public static long Export(string checkpoint, ModelSession source, Quantization.QuantizationPolicy policy, string ggufPath, bool learnedScale = false)
    {
        using var input = CheckpointOpener.Open(checkpoint);
        using var original = CheckpointOpener.Open(source.Path);
        using var scales = learnedScale ? Checkpoints.Safetensors.SafetensorsFile.Open(Path.Combine(checkpoint, QatWeightStore.ScalesFileName)) : null;
        var tokenizer = original.LoadTokenizerData(); // GgufExporter pads a short vocabulary to the embedding's rows
        var options = new GgufExportOptions
        {
            Name = $"{source.Name}-{policy.Format.Name}-{policy.Label}-qat" + (learnedScale ? "-lsq" : ""),
            RopeFrequencyFactors = source.Model.Rotary.FrequencyFactors,
            Encoders = scales is null ? null : (name, format) => LearnedEncoder(input, scales, name, format),
        };
        return GgufExporter.Write(input, tokenizer, (spec, name) => policy.Choose(spec, name), ggufPath, options).FileBytes;
    }

    /// <summary>The encoder that packs tensor <paramref name="name"/> with its learned block scales, or null when it has none.</summary>
    private static Checkpoints.Gguf.GgufRowEncoder? LearnedEncoder(Checkpoint input, Checkpoints.Safetensors.SafetensorsFile scales, string name, Quantization.TensorFormat format)
    {
        if (!scales.Tensors.TryGetValue(QatWeightStore.ScaleName(name), out var stored)) return null;
        var codec = format.Codec!;
        var weight = input[name];
        long blocks = weight.Cols / codec.BlockSize;
        if (!LearnedScale.Supports(format) || stored.Shape is not [var r, var b] || r != weight.Rows || b != blocks)
            throw new InvalidDataException($"{scales.Path}: {QatWeightStore.ScaleName(name)} [{string.Join(", ", stored.Shape)}] does not hold one scale per {format.Name} block of {name} [{weight.Rows}, {weight.Cols}]");
        float[] values = stored.ToFloat32();
        return (row, src, dst) =>
        {
            Span<int> codes = stackalloc int[codec.BlockSize];
            LearnedScale.EncodeRow(codec, src, values.AsSpan((int)(row * blocks), (int)blocks), dst, codes);
        };
    }

    /// <summary>
    /// Teacher and student must share the vocabulary, the tokenizer and the shape; anything else is refused before training
    /// with one line naming the teacher.
    /// </summary>
    public static void CheckCompatible(string teacherPath, ModelSession teacher, string studentPath, ModelSession student)
    {
        var tc = teacher.Config;
        var sc = student.Config;
        if (tc.VocabSize != sc.VocabSize)
            throw new InvalidDataException($"{teacherPath}: the teacher's vocabulary has {tc.VocabSize} entries, the student's ({studentPath}) {sc.VocabSize}; distillation compares distributions over one vocabulary");
        var ts = LlamaTensorLayout.Expected(tc).Select(s => $"{s.Name}[{string.Join(",", s.Shape)}]").ToList();
        var ss = LlamaTensorLayout.Expected(sc).Select(s => $"{s.Name}[{string.Join(",", s.Shape)}]").ToList();
        int diff = Enumerable.Range(0, Math.Max(ts.Count, ss.Count)).FirstOrDefault(i => i >= ts.Count || i >= ss.Count || ts[i] != ss[i], -1);
        if (diff >= 0)
            throw new InvalidDataException($"{teacherPath}: the teacher's shape differs from the student's ({studentPath}): " +
                $"{(diff < ts.Count ? ts[diff] : "nothing")} vs {(diff < ss.Count ? ss[diff] : "nothing")}; QAT trains the student at the teacher's shape");
        if (teacher.Tokenizer is null || student.Tokenizer is null)
            throw new InvalidDataException($"{(teacher.Tokenizer is null ? teacherPath : studentPath)}: no tokenizer; teacher and student must share one");
        if (!teacher.Tokenizer.Data.ContentEquals(student.Tokenizer.Data))
            throw new InvalidDataException($"{teacherPath}: the teacher's tokenizer differs from the student's ({studentPath}); the same text would give different tokens");
    }

    private static void CheckSameRun(string checkpoint, QatOptions o)
    {
        string path = Path.Combine(checkpoint, OptionsFileName);
        if (!File.Exists(path)) throw new InvalidDataException($"{path}: missing; {checkpoint} is not a QAT checkpoint");
        QatOptions? saved;
        try { saved = JsonSerializer.Deserialize<QatOptions>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new InvalidDataException($"{path}: not valid QAT options ({e.Message})", e); }
        if (saved is null || !SameRun(saved, o))
            throw new InvalidDataException($"{path}: the checkpoint was made with other settings ({JsonSerializer.Serialize(saved)}); " +
                "use another output folder, or the same settings to resume");
    }

    private static bool SamePath(string a, string b) =>
        string.Equals(Path.GetFullPath(a).TrimEnd('/', '\\'), Path.GetFullPath(b).TrimEnd('/', '\\'), StringComparison.Ordinal);
}
