// ExperimentSpec: an experiment as a JSON file — model, formats, policies, tasks, seeds, output folder, extras.
namespace Compression.Experiments;

/// <summary>
/// One experiment (experiments/NAME.json), expanded by <see cref="SweepPlan"/> into cells format × policy × task × seed.
/// Every member is optional except what the chosen tasks need; <see cref="ExperimentSpecLoader"/> validates and resolves paths.
/// </summary>
public sealed record ExperimentSpec
{
    /// <summary>Short name, used as the report title.</summary>
    public string? Name { get; init; }

    /// <summary>What the experiment is for (printed in the report header).</summary>
    public string? Description { get; init; }

    /// <summary>The model under test; may be omitted when the spec only asks for <see cref="SizeTable"/>.</summary>
    public ModelSource? Model { get; init; }

    /// <summary>
    /// Presets (see <see cref="ModelPresets"/>) resolved before anything else even when the model is given by path —
    /// for data the tasks read that a preset produces (the proxy's corpus and benchmark suite).
    /// </summary>
    public IReadOnlyList<string>? Prepare { get; init; }

    /// <summary>Formats to quantize the model to (registry names). The model as loaded is always the baseline.</summary>
    public IReadOnlyList<string>? Formats { get; init; }

    /// <summary>Policies each format is applied under: "default", "pure", "llama.cpp". Default: ["default"].</summary>
    public IReadOnlyList<string>? Policies { get; init; }

    /// <summary>
    /// Quantization methods each format × policy is made with (<see cref="Quantization.Methods.MethodRegistry"/> names:
    /// "rtn", "gptq", "awq", "imatrix"). Default: ["rtn"].
    /// </summary>
    public IReadOnlyList<string>? Methods { get; init; }

    /// <summary>
    /// Quantization-aware training cells (method "qat" or "qat+kd"), trained — or reused when a finished run with the same
    /// settings exists — and evaluated from their exported GGUF next to the post-training cells.
    /// </summary>
    public QatSpec? Qat { get; init; }

    /// <summary>The calibration set of the calibrated methods; required when one is listed.</summary>
    public CalibrationSettings? Calibration { get; init; }

    /// <summary>
    /// Engines every format runs on (<see cref="SweepEngines"/>): "torchsharp" (the workbench's forward), "llama.cpp" (a GGUF
    /// the sweep writes), "onnxruntime" (an ONNX folder the sweep exports, or the model itself when it is an exported folder).
    /// A format an engine cannot run is skipped for it; llama.cpp file types (Q4_K_M …) in <see cref="Formats"/> run on llama.cpp only. Default ["torchsharp"].
    /// </summary>
    public IReadOnlyList<string>? Engines { get; init; }

    /// <summary>Whether the baseline (the model as loaded) is evaluated too. Default true.</summary>
    public bool? Baseline { get; init; }

    /// <summary>The tasks run on every model.</summary>
    public TaskSpecs? Tasks { get; init; }

    /// <summary>Seeds; seed-dependent tasks (multiple choice, throughput) run once per seed, deterministic ones once. Default [1234].</summary>
    public IReadOnlyList<int>? Seeds { get; init; }

    /// <summary>Results folder. Default "results".</summary>
    public string? Output { get; init; }

    /// <summary>Config presets (e.g. "llama-3.1-8b") whose size per format is tabulated and charted; needs no model.</summary>
    public IReadOnlyList<string>? SizeTable { get; init; }

    /// <summary>Measure per-tensor quantization error of every format for the report's charts.</summary>
    public bool? TensorErrors { get; init; }
}

/// <summary>Where the model comes from: exactly one of a checkpoint path (HF directory or .gguf) or a preset name.</summary>
public sealed record ModelSource
{
    public string? Path { get; init; }
    public string? Preset { get; init; }
}

/// <summary>A calibration set: N sequences of L tokens drawn with a seed from a text file (paragraphs) or JSONL ("text").</summary>
public sealed record CalibrationSettings
{
    public string? File { get; init; }
    // set, not init: the source-generated reader would otherwise reset defaults of fields the JSON leaves out.
    public int Sequences { get; set; } = 32;
    public int Length { get; set; } = 256;
    public int Seed { get; set; } = 1234;
}

/// <summary>The tasks of an experiment; a null member is not run.</summary>
public sealed record TaskSpecs
{
    public PerplexitySpec? Perplexity { get; init; }
    public KlSpec? Kl { get; init; }
    public ChoiceSpec? Choice { get; init; }
    public ThroughputSpec? Throughput { get; init; }
}

/// <summary>Perplexity over a raw text file: window length, optional stride (null = non-overlapping), optional token cap.</summary>
public sealed record PerplexitySpec
{
    public string? File { get; init; }
    public int Context { get; set; } = 512;
    public int? Stride { get; init; }
    public int? MaxTokens { get; init; }
    /// <summary>Score each document on its own (split on this separator, e.g. "\n\n"); null = one stream.</summary>
    public string? DocumentSeparator { get; init; }
}

/// <summary>KL divergence of each quantized model against the baseline over a raw text file.</summary>
public sealed record KlSpec
{
    public string? File { get; init; }
    public int Context { get; set; } = 512;
    public int? MaxTokens { get; init; }
    /// <summary>As <see cref="PerplexitySpec.DocumentSeparator"/>.</summary>
    public string? DocumentSeparator { get; init; }
    /// <summary>
    /// The engine whose baseline every KL divergence is measured against (e.g. "torchsharp": every engine's formats
    /// against the workbench's float model; other engines' baselines then get a KL row too). Default: each engine's own.
    /// </summary>
    public string? BaselineEngine { get; init; }
}

/// <summary>Multiple-choice accuracy over JSONL task files (globs allowed in the file name part).</summary>
public sealed record ChoiceSpec
{
    public IReadOnlyList<string>? Files { get; init; }
    public int FewShot { get; init; }
    public int? Limit { get; init; }
}

/// <summary>Prefill and decode throughput.</summary>
public sealed record ThroughputSpec
{
    public int Prefill { get; set; } = 512;
    public int Decode { get; set; } = 128;
    public int Repetitions { get; set; } = 3;
    public int Warmup { get; set; } = 1;
    /// <summary>Read bandwidth of the machine (bytes/s); when set, records carry the decode roofline.</summary>
    public double? ReadBandwidth { get; set; }
}

/// <summary>
/// QAT cells and their shared training settings (see <see cref="Training.Qat.QatOptions"/>). Each cell trains into
/// <c>{output}/{method}-{format}-{policy}</c> ("+" written "-"), resuming an interrupted run and reusing a finished one.
/// </summary>
public sealed record QatSpec
{
    /// <summary>Training text (documents separated by blank lines), e.g. the proxy corpus train.txt.</summary>
    public string? Train { get; init; }
    /// <summary>Validation text for the training curve.</summary>
    public string? Valid { get; init; }
    /// <summary>The teacher of "qat+kd" cells; default the model under test.</summary>
    public string? Teacher { get; init; }
    /// <summary>Where runs are kept. Default ".cache/qat".</summary>
    public string? Output { get; init; }
    public IReadOnlyList<QatCellSpec>? Cells { get; init; }
    // set, not init: the source-generated reader would otherwise reset defaults of fields the JSON leaves out.
    public int Steps { get; set; } = 300;
    public double LearningRate { get; set; } = 1e-3;
    public double MinLearningRateRatio { get; set; } = 0.1;
    public int WarmupSteps { get; set; } = 20;
    public int BatchSize { get; set; } = 8;
    public int SequenceLength { get; set; } = 128;
    /// <summary>KL weight of "qat+kd" cells ("qat" cells use 0).</summary>
    public double Alpha { get; set; } = 0.9;
    public double Temperature { get; set; } = 1.0;
    public int Seed { get; set; } = 1234;
    public int EvalInterval { get; set; } = 25;
    public int EvalBatches { get; set; } = 4;
    public int CheckpointInterval { get; set; } = 50;
    public int Threads { get; set; } = 1;
    public int MaxTrainTokens { get; set; }
    /// <summary>"format" (the format's own block scale) or "learned" (a trainable scale per block, LSQ).</summary>
    public string Scale { get; set; } = Training.Qat.ScaleModes.Format;
    /// <summary>β of the per-layer hidden-state term of "qat+kd" cells ("qat" cells use 0).</summary>
    public double HiddenWeight { get; set; }
}

/// <summary>One QAT cell: method ("qat" or "qat+kd"), format, policy ("pure" or "default").</summary>
public sealed record QatCellSpec
{
    public string? Method { get; init; }
    public string? Format { get; init; }
    public string? Policy { get; init; }
}
