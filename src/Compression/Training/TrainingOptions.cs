// TrainingOptions: every hyper-parameter of a training run, as one immutable, JSON-serialisable record.
using System.Text.Json.Serialization;
using Compression.Model;

namespace Compression.Training;

/// <summary>
/// Hyper-parameters of a training run. Saved with every checkpoint (trainer_state.json) so a resumed
/// run continues with exactly the same schedule, data order and model shape.
/// </summary>
/// <remarks>
/// Weight decay applies only to the matrices matmuls read (attention and MLP projections, untied LM head);
/// norms and the token embedding are not decayed, as in nanoGPT/Llama practice: decaying a norm's gain
/// or an embedding row pulls them toward zero without regularising any interaction.
/// </remarks>
public sealed record TrainingOptions
{
    [JsonPropertyName("config")] public required LlamaConfig Config { get; init; }
    /// <summary>Seeds the initial weights and the order of training windows.</summary>
    [JsonPropertyName("seed")] public int Seed { get; init; } = 1234;
    [JsonPropertyName("batch_size")] public int BatchSize { get; init; } = 16;
    /// <summary>Tokens per training window (the model predicts each of them from the ones before).</summary>
    [JsonPropertyName("sequence_length")] public int SequenceLength { get; init; } = 128;
    [JsonPropertyName("total_steps")] public int TotalSteps { get; init; } = 1000;
    [JsonPropertyName("peak_learning_rate")] public double PeakLearningRate { get; init; } = 3e-3;
    /// <summary>The cosine decay ends at <see cref="PeakLearningRate"/> × this ratio.</summary>
    [JsonPropertyName("min_learning_rate_ratio")] public double MinLearningRateRatio { get; init; } = 0.1;
    [JsonPropertyName("warmup_steps")] public int WarmupSteps { get; init; } = 50;
    [JsonPropertyName("weight_decay")] public double WeightDecay { get; init; } = 0.1;
    [JsonPropertyName("beta1")] public double Beta1 { get; init; } = 0.9;
    [JsonPropertyName("beta2")] public double Beta2 { get; init; } = 0.95;
    [JsonPropertyName("epsilon")] public double Epsilon { get; init; } = 1e-8;
    /// <summary>Global L2 norm the gradients are clipped to; 0 disables clipping.</summary>
    [JsonPropertyName("grad_clip_norm")] public double GradClipNorm { get; init; } = 1.0;
    /// <summary>Validate every this many steps (and after the last one); 0 disables periodic validation.</summary>
    [JsonPropertyName("eval_interval")] public int EvalInterval { get; init; } = 100;
    /// <summary>Batches of fixed validation windows per evaluation.</summary>
    [JsonPropertyName("eval_batches")] public int EvalBatches { get; init; } = 8;
    /// <summary>Save a checkpoint every this many steps (and at the end); 0 saves only at the end.</summary>
    [JsonPropertyName("checkpoint_interval")] public int CheckpointInterval { get; init; } = 500;
    /// <summary>Std of the normal initialisation of weight matrices (HF Llama's initializer_range).</summary>
    [JsonPropertyName("init_std")] public double InitStd { get; init; } = 0.02;
    /// <summary>Training precision. Only "float32" is supported: libtorch's CPU autocast is not exposed by TorchSharp.</summary>
    [JsonPropertyName("dtype")] public string DType { get; init; } = "float32";
    /// <summary>
    /// libtorch intra-op threads (process-wide: the trainer calls torch.set_num_threads); 0 leaves libtorch's default.
    /// On a machine busy with other work 1 can beat 2: libgomp threads wait at barriers for a descheduled peer.
    /// </summary>
    [JsonPropertyName("threads")] public int Threads { get; init; }

    /// <summary>Tokens consumed by one optimizer step.</summary>
    [JsonIgnore] public long TokensPerStep => (long)BatchSize * SequenceLength;

    /// <summary>
    /// The built-in proxy: <c>experiments/configs/proxy.json</c> (3.54 M parameters) for 1200 steps of 16×128 tokens
    /// (2.46 M tokens). Measured here on one thread: ~3.0–3.4 k training tokens/s, 1200 steps in 13.4 minutes
    /// including validation. One thread, because on this shared 2-core machine two libtorch threads averaged
    /// 1.5 k tokens/s (steps of 5.6 k/s interleaved with steps stalled at a barrier); set <see cref="Threads"/>
    /// to 2 on an idle machine.
    /// </summary>
    public static TrainingOptions Proxy => new()
    {
        Config = LlamaConfig.Preset("proxy"),
        Seed = 1234,
        BatchSize = 16,
        SequenceLength = 128,
        TotalSteps = 1200,
        PeakLearningRate = 3e-3,
        MinLearningRateRatio = 0.1,
        WarmupSteps = 60,
        WeightDecay = 0.1,
        Beta1 = 0.9,
        Beta2 = 0.95,
        GradClipNorm = 1.0,
        EvalInterval = 100,
        EvalBatches = 8,
        CheckpointInterval = 200,
        Threads = 1,
    };

    /// <summary>
    /// The retrieval stage of the proxy (<c>compress train --preset proxy-retrieval</c>): continues from the trained
    /// proxy's weights on 512-token windows — whole stories, so a reference back to a fact stated 100+ tokens earlier
    /// has the fact in its window — with a fresh warm-up and cosine schedule, until looking facts up in the context
    /// (in-context retrieval: the suite's recall and long_range) is learned.
    /// </summary>
    public static TrainingOptions ProxyRetrieval => Proxy with
    {
        Seed = 4321,
        BatchSize = 4,
        SequenceLength = 512,
        TotalSteps = 3500,
        PeakLearningRate = 2e-3,
        WarmupSteps = 100,
        EvalInterval = 250,
        EvalBatches = 8,
        CheckpointInterval = 250,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid option.</summary>
    public void Validate()
    {
        void Require(bool ok, string what) { if (!ok) throw new ArgumentException($"training options: {what}"); }
        Config.Validate();
        Require(BatchSize > 0, $"batch_size must be positive (got {BatchSize})");
        Require(SequenceLength > 0 && SequenceLength <= Config.MaxPositionEmbeddings,
            $"sequence_length must be in 1..max_position_embeddings ({Config.MaxPositionEmbeddings}), got {SequenceLength}");
        Require(TotalSteps > 0, $"total_steps must be positive (got {TotalSteps})");
        Require(PeakLearningRate > 0, "peak_learning_rate must be positive");
        Require(MinLearningRateRatio is >= 0 and <= 1, "min_learning_rate_ratio must be in [0, 1]");
        Require(WarmupSteps >= 0 && WarmupSteps <= TotalSteps, "warmup_steps must be in [0, total_steps]");
        Require(WeightDecay >= 0, "weight_decay must be non-negative");
        Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, "Adam betas must be in [0, 1)");
        Require(Epsilon >= 0, "epsilon must be non-negative");
        Require(GradClipNorm >= 0, "grad_clip_norm must be non-negative");
        Require(EvalInterval >= 0 && EvalBatches >= 0, "eval_interval and eval_batches must be non-negative");
        Require(CheckpointInterval >= 0, "checkpoint_interval must be non-negative");
        Require(InitStd > 0, "init_std must be positive");
        Require(DType == "float32", $"dtype '{DType}' is not supported for training (only float32)");
        Require(Threads >= 0, "threads must be non-negative");
    }
}
