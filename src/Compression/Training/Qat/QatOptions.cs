// QatOptions: one quantization-aware training run — what to train (model, format, policy), from whom to learn
// (teacher, α, τ), on what data, and the optimizer settings; JSON-serialisable, saved in every checkpoint.
using System.Text.Json.Serialization;
using Compression.Quantization;

namespace Compression.Training.Qat;

/// <summary>
/// The settings of a QAT run. <see cref="Alpha"/> = 0 is plain QAT ("qat"), &gt; 0 distillation ("qat+kd"). Paths are
/// stored as given; a resumed run must name the same format, policy, α, τ and teacher (checked against the checkpoint).
/// </summary>
public sealed record QatOptions
{
    /// <summary>The trained model the student starts from (HF directory or GGUF).</summary>
    [JsonPropertyName("model")] public required string Model { get; init; }
    /// <summary>The teacher (default: <see cref="Model"/>): supplies the distillation targets and the validation KL.</summary>
    [JsonPropertyName("teacher")] public string? Teacher { get; init; }
    [JsonPropertyName("format")] public required string Format { get; init; }
    /// <summary>"pure" (every 2-D tensor, embeddings and LM head too) or "default" (block linears; embeddings and head at f16).</summary>
    [JsonPropertyName("policy")] public string Policy { get; init; } = "pure";
    [JsonPropertyName("alpha")] public double Alpha { get; init; } = 0.9;
    [JsonPropertyName("temperature")] public double Temperature { get; init; } = 1.0;
    /// <summary>
    /// "format": each block's scale is the format's own rule (Q1_0: fp16 mean |w|); "learned": a trainable scale per block
    /// (LSQ), initialised to it and written into the block's fp16 scale field on export.
    /// </summary>
    [JsonPropertyName("scale")] public string Scale { get; init; } = ScaleModes.Format;
    /// <summary>β of the per-layer hidden-state term of the distillation loss (0: none); see <see cref="DistillationObjective"/>.</summary>
    [JsonPropertyName("hidden_weight")] public double HiddenWeight { get; init; }
    /// <summary>Training text: documents separated by a blank line (the proxy corpus layout).</summary>
    [JsonPropertyName("train_file")] public required string TrainFile { get; init; }
    [JsonPropertyName("valid_file")] public required string ValidFile { get; init; }
    /// <summary>Use at most this many training tokens (the stream's start); 0 = all.</summary>
    [JsonPropertyName("max_train_tokens")] public int MaxTrainTokens { get; init; }
    [JsonPropertyName("steps")] public int Steps { get; init; } = 300;
    [JsonPropertyName("learning_rate")] public double LearningRate { get; init; } = 1e-3;
    [JsonPropertyName("min_learning_rate_ratio")] public double MinLearningRateRatio { get; init; } = 0.1;
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 20;
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; }
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 8;
    [JsonPropertyName("sequence_length")] public int SequenceLength { get; init; } = 128;
    [JsonPropertyName("seed")] public int Seed { get; init; } = 1234;
    [JsonPropertyName("eval_interval")] public int EvalInterval { get; init; } = 25;
    [JsonPropertyName("eval_batches")] public int EvalBatches { get; init; } = 4;
    [JsonPropertyName("checkpoint_interval")] public int CheckpointInterval { get; init; } = 50;
    /// <summary>libtorch intra-op threads (0 = libtorch's default).</summary>
    [JsonPropertyName("threads")] public int Threads { get; init; } = 1;

    /// <summary>"qat+kd" when a teacher's KL or hidden states are in the loss, else "qat": the <c>method</c> field of result records.</summary>
    [JsonIgnore] public string Method => Alpha > 0 || HiddenWeight > 0 ? QatMethod.Distilled : QatMethod.Plain;

    /// <summary>Whether the block scales are trained (<see cref="ScaleModes.Learned"/>).</summary>
    [JsonIgnore] public bool LearnedScale => Scale == ScaleModes.Learned;

    /// <summary>The format (throws naming the known ones).</summary>
    [JsonIgnore] public TensorFormat TensorFormat => FormatRegistry.Get(Format);

    /// <summary>The policy the student is fake-quantized under and the file is exported with.</summary>
    [JsonIgnore] public QuantizationPolicy QuantizationPolicy => Policy switch
    {
        "pure" => QuantizationPolicy.PureOf(TensorFormat),
        "default" => QuantizationPolicy.Default(TensorFormat),
        _ => throw new ArgumentException($"qat: unknown policy '{Policy}'; expected pure or default"),
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"qat: {what}"); }
        var format = TensorFormat;
        Require(format.CanQuantize && !format.IsFloat, $"format '{format.Name}' is not a quantized format the workbench can produce");
        _ = QuantizationPolicy;
        Require(Alpha is >= 0 and <= 1, $"alpha must be in [0, 1] (got {Alpha})");
        Require(Temperature > 0 && double.IsFinite(Temperature), $"temperature must be positive (got {Temperature})");
        Require(Scale is ScaleModes.Format or ScaleModes.Learned, $"scale must be {ScaleModes.Format} or {ScaleModes.Learned} (got '{Scale}')");
        Require(Scale != ScaleModes.Learned || Qat.LearnedScale.Supports(format), $"format '{format.Name}' has no block scale a learned one could replace; use scale {ScaleModes.Format}");
        Require(HiddenWeight >= 0 && double.IsFinite(HiddenWeight), $"hidden_weight must be non-negative (got {HiddenWeight})");
        Require(Steps > 0, $"steps must be positive (got {Steps})");
        Require(MaxTrainTokens >= 0, "max_train_tokens must be non-negative");
    }

    /// <summary>The trainer's options for a student of <paramref name="config"/>.</summary>
    public TrainingOptions Training(Model.LlamaConfig config) => new()
    {
        Config = config with { TorchDtype = "float32" },
        Seed = Seed,
        BatchSize = BatchSize,
        SequenceLength = SequenceLength,
        TotalSteps = Steps,
        PeakLearningRate = LearningRate,
        MinLearningRateRatio = MinLearningRateRatio,
        WarmupSteps = Math.Min(WarmupSteps, Steps),
        WeightDecay = WeightDecay,
        EvalInterval = EvalInterval,
        EvalBatches = EvalBatches,
        CheckpointInterval = CheckpointInterval,
        Threads = Threads,
    };
}

/// <summary>The method names QAT files its results under, beside the post-training ones (rtn, gptq, awq, imatrix).</summary>
public static class QatMethod
{
    public const string Plain = "qat";
    public const string Distilled = "qat+kd";
    public static bool IsQat(string method) => method is Plain or Distilled;
}

/// <summary>Where a QAT student's block scales come from.</summary>
public static class ScaleModes
{
    /// <summary>The format's own rule, recomputed from the master weights at every step.</summary>
    public const string Format = "format";
    /// <summary>A trainable scale per block (LSQ), stored in the exported block's scale field.</summary>
    public const string Learned = "learned";
}
