// EvaluatedModel: a model in memory as a cell measures it — the weights, the tokenizer, and the labels its records carry.
using Compression.Evaluation;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;
using Compression.Tokenization;

namespace Compression.Experiments;

/// <summary>
/// A model under evaluation: <see cref="Model"/> (baseline or quantized), the tokenizer it shares with its baseline,
/// and what its records are filed under (<see cref="Info"/>, <see cref="Format"/>, <see cref="Policy"/>). Does not own
/// the model: whoever loaded or quantized it disposes it.
/// </summary>
public sealed record EvaluatedModel(ModelInfo Info, LlamaModel? Model, LlamaTokenizer? Tokenizer, string Format, string Policy)
{
    /// <summary>The engine that runs the model; records of any engine but the workbench's own carry it.</summary>
    public string Engine { get; init; } = ResultKey.DefaultEngine;

    /// <summary>Another engine's model: opens it through the evaluation interface for windows of at most N tokens.</summary>
    public Func<int?, IOwnedLanguageModel>? Open { get; init; }

    /// <summary>The file or folder another engine loads (a GGUF, an ONNX folder); null for the workbench's models.</summary>
    public string? ArtifactPath { get; init; }

    /// <summary>Measured size of another engine's artifact (bytes of its weights on disk).</summary>
    public SizeInfo? ArtifactSize { get; init; }

    /// <summary>
    /// A model another engine runs from a file the sweep wrote (a GGUF for llama.cpp, an ONNX folder for ONNX Runtime),
    /// filed under the same model as the workbench's runs so the report puts them side by side.
    /// </summary>
    public static EvaluatedModel OnEngine(ModelInfo info, string engine, string format, string policy, SizeInfo size,
        Func<int?, IOwnedLanguageModel> open) =>
        new(info, null, null, format, policy) { Engine = engine, Open = open, ArtifactSize = size };

    /// <summary>The workbench's model; an error naming the engine for a model another engine runs.</summary>
    public LlamaModel RequireModel() => Model
        ?? throw new NotSupportedException($"{Info.Name} {Format} ({Policy}) runs on {Engine}: this measurement needs the workbench's own forward");

    /// <summary>Policy label of a model evaluated as loaded.</summary>
    public const string BaselinePolicy = "baseline";

    /// <summary>
    /// The session's model as loaded, labelled by its stored format (the format most of its tensors are stored in,
    /// e.g. "f32" for a float32 checkpoint, "q8_0" for a Q8_0 GGUF).
    /// </summary>
    public static EvaluatedModel Baseline(ModelSession session) =>
        new(new ModelInfo(session.Name, session.Path, LlamaTensorLayout.ParameterCount(session.Config)),
            session.Model, session.Tokenizer, StoredFormat(session), BaselinePolicy);

    /// <summary>The same model quantized under <paramref name="policy"/> (its format and label).</summary>
    public EvaluatedModel Quantized(LlamaModel quantized, QuantizationPolicy policy) =>
        this with { Model = quantized, Format = policy.Format.Name, Policy = policy.Label };

    /// <summary>Measured size: bytes of the weights in memory and bits per weight over the parameter count.</summary>
    public SizeInfo Size
    {
        get
        {
            if (Model is null) return ArtifactSize ?? throw new InvalidOperationException($"{Info.Name} {Format} on {Engine}: no size");
            long bytes = Model.WeightBytes;
            return new SizeInfo(bytes, 8.0 * bytes / Math.Max(1, Info.ParameterCount));
        }
    }

    /// <summary>The model through the evaluation interface; needs the tokenizer.</summary>
    public IOwnedLanguageModel AsLanguageModel(int? maxContext = null)
    {
        if (Open is not null) return Open(maxContext);
        if (Model is null) throw new InvalidOperationException($"{Info.Name} {Format}: neither a model nor an engine to open it");
        var tokenizer = Tokenizer ?? throw new InvalidDataException($"{Info.Path ?? Info.Name}: the checkpoint has no tokenizer (tokenizer.json or tokenizer.ggml.*); text tasks need one");
        return LlamaLanguageModel.WithTokenizer(Model, tokenizer, maxContext);
    }

    private static string StoredFormat(ModelSession session) => StoredFormat(session.StoredFormats);

    /// <summary>The format most tensors are stored in (ties: alphabetical), "f32" for none.</summary>
    public static string StoredFormat(IReadOnlyDictionary<string, int> tensorsPerFormat) =>
        tensorsPerFormat.Count == 0 ? "f32"
            : tensorsPerFormat.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).First().Key;

    /// <summary>The display name a checkpoint at <paramref name="checkpointPath"/> is filed under (as <see cref="ModelSession.Name"/>).</summary>
    public static string NameOf(string checkpointPath) => System.IO.Path.GetFileName(checkpointPath.TrimEnd('/', '\\'));
}
