// Trainer: next-token training of a LlamaModel with AdamW, warm-up + cosine LR, clipping, validation and checkpoints.
using System.Diagnostics;
using Compression.Model;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Compression.Training;

/// <summary>
/// Trains a randomly initialised Llama on an already-tokenized stream. Every step runs in a dispose
/// scope, so memory stays flat over thousands of steps. A checkpoint directory holds config.json, the
/// weights under HF names (<see cref="ITrainingWeightStore"/>), the AdamW state (optimizer.bin) and
/// trainer_state.json; <see cref="Resume"/> continues the exact same curve from it.
/// </summary>
public sealed class Trainer : IDisposable
{
    /// <summary>Name of the optimizer state file (TorchSharp's AdamW state: step count and both moments per parameter).</summary>
    public const string OptimizerFileName = "optimizer.bin";

    private readonly LlamaModel _model;
    private readonly AdamW _optimizer;
    private readonly List<AdamW.ParamGroup> _groups;
    private readonly List<Parameter> _parameters;
    private readonly List<(string Name, Tensor Tensor)> _hfWeights;
    private readonly TokenWindows _train;
    private readonly TokenWindows _valid;
    private readonly long[] _validStarts;
    private readonly ITrainingWeightStore _store;
    private readonly ITrainingObjective _objective;
    private readonly Action<string>? _writeExtraFiles;
    private readonly (long Tokens, string Fingerprint) _trainId, _validId;
    private readonly List<StepRecord> _history = [];
    private readonly List<EvalRecord> _evaluations = [];
    private double _elapsedBefore;

    /// <summary>Starts a fresh run: random weights from <see cref="TrainingOptions.Seed"/>, step 0.</summary>
    /// <param name="train">Training tokens (ids below the vocabulary size).</param>
    /// <param name="valid">Validation tokens; fixed windows spread over it are scored at every evaluation.</param>
    /// <param name="checkpointDirectory">Where periodic and final checkpoints go; null saves none.</param>
    /// <param name="weightStore">Weight file format; <see cref="SafetensorsWeightStore"/> (HF model.safetensors) by default.</param>
    public Trainer(TrainingOptions options, ReadOnlyMemory<int> train, ReadOnlyMemory<int> valid,
        string? checkpointDirectory = null, ITrainingWeightStore? weightStore = null)
        : this(options, CreateRandomModel(options), NextTokenObjective.Instance, train, valid, checkpointDirectory, weightStore)
    {
    }

    /// <summary>
    /// Starts a run on a given model (which the trainer takes over and disposes) with a given objective — how
    /// quantization-aware training trains a fake-quantized student initialised from a trained model.
    /// </summary>
    /// <param name="writeExtraFiles">Writes further files into each checkpoint's temp directory (the caller's own state).</param>
    public Trainer(TrainingOptions options, LlamaModel model, ITrainingObjective objective, ReadOnlyMemory<int> train, ReadOnlyMemory<int> valid,
        string? checkpointDirectory = null, ITrainingWeightStore? weightStore = null, Action<string>? writeExtraFiles = null)
    {
        try
        {
            options.Validate();
            var expected = LlamaTensorLayout.Expected(options.Config).Select(t => (t.Name, string.Join(",", t.Shape)));
            var actual = LlamaTensorLayout.Expected(model.Config).Select(t => (t.Name, string.Join(",", t.Shape)));
            if (!expected.SequenceEqual(actual)) throw new ArgumentException("training options: config describes a model of another shape than the one given");
        }
        catch { model.Dispose(); throw; }
        _objective = objective;
        _writeExtraFiles = writeExtraFiles;
        Options = options;
        CheckpointDirectory = checkpointDirectory;
        _store = weightStore ?? new SafetensorsWeightStore();
        if (options.Threads > 0) set_num_threads(options.Threads);
        CheckTokens(train.Span, options.Config.VocabSize, "train");
        CheckTokens(valid.Span, options.Config.VocabSize, "valid");
        _trainId = (train.Length, TrainerState.Fingerprint(train.Span));
        _validId = (valid.Length, TrainerState.Fingerprint(valid.Span));
        _train = new TokenWindows(train, options.SequenceLength, "train");
        _valid = new TokenWindows(valid, options.SequenceLength, "valid");
        _validStarts = _valid.EvenlySpacedStarts(options.EvalBatches * options.BatchSize);

        _model = model;
        _model.train();
        _hfWeights = _model.named_parameters().Select(p => (HfName(p.name), (Tensor)p.parameter)).ToList();
        (_groups, _parameters) = ParameterGroups(_model, options);
        _optimizer = optim.AdamW(_groups, options.PeakLearningRate, options.Beta1, options.Beta2, options.Epsilon, options.WeightDecay);
    }

    /// <summary>
    /// Reopens a run from its checkpoint directory: options, weights, optimizer moments, step and history.
    /// The token streams must be the ones the run started with (checked by length and hash).
    /// </summary>
    public static Trainer Resume(string checkpointDirectory, ReadOnlyMemory<int> train, ReadOnlyMemory<int> valid,
        ITrainingWeightStore? weightStore = null) =>
        Resume(checkpointDirectory, state => new Trainer(state.Options, train, valid, checkpointDirectory, weightStore));

    /// <summary>
    /// Reopens a run whose trainer <paramref name="create"/> makes from the saved state (its model built the way the run
    /// built it, e.g. fake-quantized); the saved weights, optimizer moments, step and history are then restored into it.
    /// </summary>
    public static Trainer Resume(string checkpointDirectory, Func<TrainerState, Trainer> create)
    {
        Training.CheckpointDirectory.Recover(checkpointDirectory);
        var state = TrainerState.Load(Path.Combine(checkpointDirectory, TrainerState.FileName));
        var trainer = create(state);
        try
        {
            trainer.CheckSameData(state, checkpointDirectory);
            trainer._store.ReadInto(checkpointDirectory, trainer._hfWeights.ToDictionary(w => w.Name, w => w.Tensor));
            string optimizerPath = Path.Combine(checkpointDirectory, OptimizerFileName);
            if (!File.Exists(optimizerPath)) throw new InvalidDataException($"{optimizerPath}: optimizer state is missing");
            try { trainer._optimizer.load_state_dict(optimizerPath); }
            catch (Exception e) when (e is ArgumentException or EndOfStreamException)
            { throw new InvalidDataException($"{optimizerPath}: optimizer state does not match the model ({e.Message})", e); }
            trainer.Step = state.Step;
            trainer._history.AddRange(state.History);
            trainer._evaluations.AddRange(state.Evaluations);
            trainer._elapsedBefore = state.ElapsedSeconds;
            return trainer;
        }
        catch
        {
            trainer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces the fresh run's random weights with the weights stored in <paramref name="directory"/> (a checkpoint or
    /// model folder of the same shape), before the first step — how a later training stage continues from an earlier
    /// stage's model with a new schedule and fresh optimizer moments. A resumed run reads its own checkpoint instead.
    /// </summary>
    public void InitialiseWeightsFrom(string directory)
    {
        if (Step != 0 || _history.Count != 0) throw new InvalidOperationException($"weights can only be initialised before the first step (at step {Step})");
        using var noGrad = no_grad();
        _store.ReadInto(directory, _hfWeights.ToDictionary(w => w.Name, w => w.Tensor));
    }

    public TrainingOptions Options { get; }
    public LlamaModel Model => _model;
    /// <summary>Where checkpoints are saved, or null.</summary>
    public string? CheckpointDirectory { get; }
    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; private set; }
    public IReadOnlyList<StepRecord> History => _history;
    public IReadOnlyList<EvalRecord> Evaluations => _evaluations;
    /// <summary>The model's weights under their Hugging Face names (live parameters, not copies).</summary>
    public IReadOnlyList<(string Name, Tensor Tensor)> NamedWeights => _hfWeights;

    /// <summary>
    /// Trains until <see cref="TrainingOptions.TotalSteps"/> (or <paramref name="stopAtStep"/>), validating and
    /// checkpointing at their intervals. On cancellation it stops after the current step. Whenever it stops
    /// with a checkpoint directory set, it leaves a checkpoint of the last completed step.
    /// </summary>
    /// <param name="progress">Called after every step.</param>
    /// <param name="stopAtStep">Stop when this many steps are done (the schedule still spans TotalSteps).</param>
    public TrainingResult Train(Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default,
        int? stopAtStep = null)
    {
        int end = Math.Min(stopAtStep ?? Options.TotalSteps, Options.TotalSteps);
        var clock = Stopwatch.StartNew();
        double trainSeconds = 0;
        int stepsRun = 0, lastSaved = -1;
        double lastLoss = _history.Count > 0 ? _history[^1].Loss : double.NaN;
        bool cancelled = false;
        while (Step < end)
        {
            long t0 = Stopwatch.GetTimestamp();
            var record = TrainStep();
            double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
            trainSeconds += seconds;
            stepsRun++;
            lastLoss = record.Loss;

            double? validation = null;
            if (Options.EvalInterval > 0 && Options.EvalBatches > 0 && (Step % Options.EvalInterval == 0 || Step == Options.TotalSteps))
                validation = Validate();
            progress?.Invoke(new TrainingProgress(Step, Options.TotalSteps, record.Loss, record.LearningRate, record.GradNorm,
                Options.TokensPerStep / seconds, validation, Elapsed(clock), record.Kl, validation is null ? null : _evaluations[^1].Kl));

            cancelled = cancellationToken.IsCancellationRequested;
            if (CheckpointDirectory is not null && !cancelled && Options.CheckpointInterval > 0 && Step % Options.CheckpointInterval == 0)
            {
                SaveCheckpoint(CheckpointDirectory, Elapsed(clock));
                lastSaved = Step;
            }
            if (cancelled) break;
        }
        if (CheckpointDirectory is not null && lastSaved != Step && stepsRun > 0)
            SaveCheckpoint(CheckpointDirectory, Elapsed(clock));
        _elapsedBefore += clock.Elapsed.TotalSeconds;
        return new TrainingResult(Step, cancelled, lastLoss, _evaluations.Count > 0 ? _evaluations[^1].Loss : null,
            stepsRun > 0 ? stepsRun * Options.TokensPerStep / trainSeconds : 0, TimeSpan.FromSeconds(_elapsedBefore),
            CheckpointDirectory is not null && File.Exists(Path.Combine(CheckpointDirectory, TrainerState.FileName)) ? CheckpointDirectory : null);
    }

    /// <summary>One optimizer step on the batch the data order assigns to the current step.</summary>
    public StepRecord TrainStep()
    {
        if (Step >= Options.TotalSteps) throw new InvalidOperationException($"the run is complete ({Options.TotalSteps} steps)");
        using var scope = NewDisposeScope();
        double lr = LearningRateSchedule.At(Step, Options);
        foreach (var group in _groups) group.LearningRate = lr;
        var (inputs, targets) = _train.TrainingBatch(Options.Seed, Step, Options.BatchSize); // (B, T) each
        _optimizer.zero_grad();
        var value = _objective.Loss(_model, inputs, targets);
        var loss = value.Loss;
        loss.backward();
        // With clipping off, an infinite bound still reports the norm and scales by exactly 1.
        double gradNorm = nn.utils.clip_grad_norm_(_parameters, Options.GradClipNorm > 0 ? Options.GradClipNorm : double.PositiveInfinity);
        _optimizer.step();
        var record = new StepRecord(Step + 1, loss.item<float>(), lr, gradNorm,
            value.Kl is null ? null : value.CrossEntropy.item<float>(), value.Kl?.item<float>());
        Step++;
        _history.Add(record);
        return record;
    }

    /// <summary>Mean next-token cross-entropy (nats/token) over the fixed validation windows; recorded in <see cref="Evaluations"/>.</summary>
    public double Validate()
    {
        var (loss, kl) = ValidationMeans();
        _evaluations.Add(new EvalRecord(Step, loss, Math.Exp(loss), kl));
        return loss;
    }

    /// <summary>Mean next-token cross-entropy over the fixed validation windows, without recording it.</summary>
    public double ValidationLoss() => ValidationMeans().Loss;

    /// <summary>Mean cross-entropy and (when the objective has a reference model) mean KL divergence per validation token.</summary>
    public (double Loss, double? Kl) ValidationMeans()
    {
        using var noGrad = no_grad();
        bool wasTraining = _model.training;
        _model.eval();
        try
        {
            double sum = 0, klSum = 0;
            bool hasKl = false;
            long count = 0;
            for (int i = 0; i < _validStarts.Length; i += Options.BatchSize)
            {
                using var scope = NewDisposeScope();
                var starts = _validStarts.AsSpan(i, Math.Min(Options.BatchSize, _validStarts.Length - i));
                var (inputs, targets) = _valid.Batch(starts);
                var sums = _objective.Validate(_model, inputs, targets);
                sum += sums.CrossEntropy;
                if (sums.Kl is { } k) { klSum += k; hasKl = true; }
                count += sums.Tokens;
            }
            return count == 0 ? (double.NaN, null) : (sum / count, hasKl ? klSum / count : null);
        }
        finally { if (wasTraining) _model.train(); }
    }

    /// <summary>Writes a complete checkpoint of the current step to <paramref name="directory"/> (atomically replaced).</summary>
    public void SaveCheckpoint(string directory) => SaveCheckpoint(directory, TimeSpan.Zero);

    private void SaveCheckpoint(string directory, TimeSpan elapsedThisCall)
    {
        var state = new TrainerState
        {
            Step = Step,
            Options = Options,
            TrainTokens = _trainId.Tokens, TrainFingerprint = _trainId.Fingerprint,
            ValidTokens = _validId.Tokens, ValidFingerprint = _validId.Fingerprint,
            ElapsedSeconds = _elapsedBefore + elapsedThisCall.TotalSeconds,
            History = [.. _history],
            Evaluations = [.. _evaluations],
        };
        Training.CheckpointDirectory.Save(directory, temp =>
        {
            File.WriteAllText(Path.Combine(temp, "config.json"), (Options.Config with { TorchDtype = "float32" }).ToJson());
            _store.Write(temp, _hfWeights);
            _optimizer.save_state_dict(Path.Combine(temp, OptimizerFileName));
            _writeExtraFiles?.Invoke(temp);
            File.WriteAllText(Path.Combine(temp, TrainerState.FileName), state.ToJson());
        });
    }

    public void Dispose()
    {
        _optimizer.Dispose();
        _model.Dispose();
    }

    private static LlamaModel CreateRandomModel(TrainingOptions options)
    {
        options.Validate();
        return LlamaModel.CreateRandom(options.Config, options.Seed, options.InitStd);
    }

    private TimeSpan Elapsed(Stopwatch clock) => TimeSpan.FromSeconds(_elapsedBefore) + clock.Elapsed;

    /// <summary>TorchSharp names the parameters from the model's fields ("layers.0.mlp.up_proj.weight"); HF prefixes "model.".</summary>
    internal static string HfName(string parameterName) =>
        parameterName.StartsWith("lm_head.", StringComparison.Ordinal) ? parameterName : "model." + parameterName;

    /// <summary>Decayed group: matrices matmuls read; undecayed group: norms and the embedding (see <see cref="TrainingOptions"/>).</summary>
    private static (List<AdamW.ParamGroup> Groups, List<Parameter> All) ParameterGroups(LlamaModel model, TrainingOptions o)
    {
        var roles = LlamaTensorLayout.Expected(o.Config).ToDictionary(s => s.Name);
        var decay = new List<Parameter>();
        var noDecay = new List<Parameter>();
        foreach (var (name, p) in model.named_parameters())
        {
            if (roles.TryGetValue(HfName(name), out var spec)) (spec.IsLinear || spec.Role == TensorRole.LmHead ? decay : noDecay).Add(p);
            // A layer's own extra parameter beside a weight of the layout (QAT's learned block scales "….weight_scale"):
            // trained, never decayed.
            else if (roles.ContainsKey(HfName(name[..Math.Max(0, name.LastIndexOf('.'))] + ".weight"))) noDecay.Add(p);
            else throw new InvalidOperationException($"parameter '{name}' has no HF tensor in the layout");
        }
        var groups = new List<AdamW.ParamGroup>
        {
            new(decay, o.PeakLearningRate, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay),
            new(noDecay, o.PeakLearningRate, o.Beta1, o.Beta2, o.Epsilon, weight_decay: 0),
        };
        return (groups, [.. decay, .. noDecay]);
    }

    private void CheckSameData(TrainerState state, string directory)
    {
        if (state.TrainTokens != _trainId.Tokens || state.TrainFingerprint != _trainId.Fingerprint)
            throw new InvalidDataException($"{directory}: the run was trained on different tokens ({state.TrainTokens} tokens, hash {state.TrainFingerprint}); " +
                                           $"got {_trainId.Tokens} tokens, hash {_trainId.Fingerprint}");
        if (state.ValidTokens != _validId.Tokens || state.ValidFingerprint != _validId.Fingerprint)
            throw new InvalidDataException($"{directory}: the run was validated on different tokens ({state.ValidTokens} tokens, hash {state.ValidFingerprint}); " +
                                           $"got {_validId.Tokens} tokens, hash {_validId.Fingerprint}");
    }

    private static void CheckTokens(ReadOnlySpan<int> tokens, int vocab, string name)
    {
        for (int i = 0; i < tokens.Length; i++)
            if ((uint)tokens[i] >= (uint)vocab)
                throw new ArgumentException($"{name} token {i} is {tokens[i]}, outside the vocabulary [0, {vocab})");
    }
}
