// ThroughputCell: prefill and decode speed, memory and roofline of a model on one engine, as a result record.
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Engines.OnnxRuntime;
using Compression.Evaluation;
using Compression.Evaluation.Throughput;
using Compression.Model;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>
/// Runs <see cref="ThroughputBenchmark"/> on an engine and files the result (the record describes the machine).
/// The workbench's own forward files under task <see cref="TaskName"/>; another engine under
/// <c>throughput.ENGINE</c>, so both land in the same row of a results table, side by side.
/// </summary>
public static class ThroughputCell
{
    /// <summary>Task name the workbench engine's records carry.</summary>
    public const string TaskName = "throughput";

    /// <summary>Engines <c>compress bench --engine</c> knows.</summary>
    public static IReadOnlyList<string> Engines { get; } = [TorchSharpThroughputEngine.EngineName, LlamaCppRuntime.EngineName, OnnxRuntimeLanguageModel.EngineName];

    /// <summary>Task name of an engine's records.</summary>
    public static string TaskNameOf(string engine) => engine == TorchSharpThroughputEngine.EngineName ? TaskName : $"{TaskName}.{engine}";

    /// <summary>
    /// The workbench's forward on <paramref name="model"/>: median prefill and decode tokens/s over the repetitions,
    /// with the slowest and fastest run as bounds; decode ms/token; memory; roofline when the bandwidth is known.
    /// </summary>
    public static ResultRecord Run(EvaluatedModel model, ThroughputOptions options,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var weights = model.RequireModel();
        var r = ThroughputBenchmark.Run(weights, options, progress, cancellationToken);
        return Record(model.Info, model.Format, model.Policy, model.Size, r, DecodeTraffic.WeightBytesPerToken(weights), options);
    }

    /// <summary>
    /// The model on its engine: the workbench's forward in memory, llama.cpp on the GGUF the sweep wrote or ONNX Runtime
    /// GenAI on the ONNX folder it exported (or was given) — then filed
    /// under the model's own format, policy and engine (task <see cref="TaskName"/>) like every other cell of its row.
    /// </summary>
    /// <param name="threads">Threads of llama.cpp or ONNX Runtime (default: every core); the workbench's are libtorch's setting.</param>
    public static ResultRecord RunOn(EvaluatedModel model, ThroughputOptions options,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default, int? threads = null)
    {
        if (model.Engine == ResultKey.DefaultEngine) return Run(model, options, progress, cancellationToken);
        var r = (model.Engine, model.ArtifactPath) switch
        {
            (LlamaCppRuntime.EngineName, { } gguf) => RunLlamaCpp(gguf, options, threads ?? Environment.ProcessorCount, progress, cancellationToken),
            (OnnxRuntimeLanguageModel.EngineName, { } dir) => RunOnnxRuntime(dir, options, threads ?? Environment.ProcessorCount, progress, cancellationToken),
            _ => throw new NotSupportedException($"throughput on {model.Engine} is not measured by sweeps"),
        };
        return r with { Model = model.Info, Format = model.Format, Policy = model.Policy, Size = model.Size, Task = r.Task with { Name = TaskName } };
    }

    /// <summary>
    /// llama.cpp on the GGUF file itself, with the same prompt lengths, seed and repetitions, and
    /// <paramref name="threads"/> threads. Filed under the same model name, stored format and policy as the
    /// workbench's baseline run on that file.
    /// </summary>
    public static ResultRecord RunLlamaCpp(string ggufPath, ThroughputOptions options, int threads,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ModelInfo info;
        string format;
        SizeInfo size;
        if (SupportedByWorkbench(ggufPath))
        {
            using var checkpoint = GgufCheckpoint.Open(ggufPath);
            long parameters = LlamaTensorLayout.ParameterCount(checkpoint.Config);
            info = new ModelInfo(EvaluatedModel.NameOf(ggufPath), Path.GetFullPath(ggufPath), parameters);
            format = EvaluatedModel.StoredFormat(checkpoint.Tensors.Values.GroupBy(t => t.Format.Name).ToDictionary(g => g.Key, g => g.Count()));
            size = new SizeInfo(checkpoint.TensorBytes, 8.0 * checkpoint.TensorBytes / Math.Max(1, parameters));
        }
        else
        {
            // A file in llama.cpp's own types (Q4_K_M …): sized from its metadata, labelled by its most common ggml type.
            var summary = GgufSummary.Read(ggufPath);
            long parameters = LlamaTensorLayout.ParameterCount(summary.Config);
            info = new ModelInfo(EvaluatedModel.NameOf(ggufPath), Path.GetFullPath(ggufPath), parameters);
            format = summary.MainType;
            size = new SizeInfo(summary.TensorBytes, summary.BitsPerWeight);
        }
        using var model = LlamaCppThroughputEngine.Open(ggufPath, options, threads);
        var r = ThroughputBenchmark.Run(new LlamaCppThroughputEngine(model), options, progress, cancellationToken);
        var record = Record(info, format, EvaluatedModel.BaselinePolicy, size, r, DecodeTraffic.WeightBytesPerToken(ggufPath), options);
        if (LlamaCppRuntime.Build is not { } build) return record;
        // Which of the native builds ran (avx512, avx2, ...): llama.cpp's speed depends on it.
        return record with { Settings = record.Settings with { Extra = new Dictionary<string, string>(record.Settings.Extra!) { ["engine_build"] = build } } };
    }

    /// <summary>
    /// An exported ONNX folder through ONNX Runtime GenAI (its generator and KV cache) with the same prompt lengths, seed
    /// and repetitions, and <paramref name="threads"/> intra-op threads. Filed under the folder's name and stored format.
    /// </summary>
    public static ResultRecord RunOnnxRuntime(string dir, ThroughputOptions options, int threads,
        IProgress<EvaluationProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        using var engine = OnnxRuntimeThroughputEngine.Open(dir, threads);
        var folder = engine.Folder;
        var info = new ModelInfo(EvaluatedModel.NameOf(dir), Path.GetFullPath(dir), folder.ParameterCount);
        long bytes = OnnxFolderBytes(dir);
        var size = new SizeInfo(bytes, 8.0 * bytes / Math.Max(1, folder.ParameterCount));
        var r = ThroughputBenchmark.Run(engine, options, progress, cancellationToken);
        return Record(info, folder.StoredFormat, EvaluatedModel.BaselinePolicy, size, r, folder.WeightBytesPerToken, options);
    }

    /// <summary>Bytes of an ONNX folder's graph and weight data (what ONNX Runtime loads).</summary>
    public static long OnnxFolderBytes(string dir) => Directory.EnumerateFiles(dir, "model.onnx*").Sum(f => new FileInfo(f).Length);

    private static bool SupportedByWorkbench(string ggufPath)
    {
        using var file = GgufFile.OpenMetadata(ggufPath);
        return file.ForeignTensors.Count == 0;
    }

    private static ResultRecord Record(ModelInfo info, string format, string policy, SizeInfo size, ThroughputResult r,
        long bytesPerToken, ThroughputOptions options)
    {
        var metrics = new Dictionary<string, MetricValue>
        {
            [MetricNames.PrefillTokensPerSecond] = new(r.PrefillTokensPerSecond, r.PrefillMin, r.PrefillMax),
            [MetricNames.DecodeTokensPerSecond] = new(r.DecodeTokensPerSecond, r.DecodeMin, r.DecodeMax),
            [MetricNames.DecodeMsPerToken] = new(r.DecodeMsPerToken, 1000.0 / r.DecodeMax, 1000.0 / r.DecodeMin),
            [MetricNames.PeakResidentBytes] = new(r.PeakResidentBytes),
            [MetricNames.RunPeakResidentBytes] = new(r.RunPeakResidentBytes),
            [MetricNames.PeakAnonymousBytes] = new(r.RunPeakAnonymousBytes),
            [MetricNames.WeightBytesPerToken] = new(bytesPerToken),
        };
        if (options.ReadBandwidthBytesPerSecond is double bandwidth)
        {
            double roof = DecodeTraffic.RooflineTokensPerSecond(bandwidth, bytesPerToken);
            metrics[MetricNames.ReadBandwidth] = new(bandwidth);
            metrics[MetricNames.RooflineTokensPerSecond] = new(roof);
            metrics[MetricNames.RooflineFraction] = new(r.DecodeTokensPerSecond / roof, r.DecodeMin / roof, r.DecodeMax / roof);
        }
        var extra = new Dictionary<string, string>
        {
            ["engine"] = r.Engine,
            ["prefill_tokens"] = CellRecords.Text(options.PrefillTokens),
            ["decode_tokens"] = CellRecords.Text(options.DecodeTokens),
            ["repetitions"] = CellRecords.Text(options.Repetitions),
            ["warmup"] = CellRecords.Text(options.WarmupRuns),
            ["threads"] = CellRecords.Text(r.Threads),
        };
        // The workbench prefills as generation does: Q8 activations where the format has an integer prefill (PrefillActivations).
        if (r.Engine == TorchSharpThroughputEngine.EngineName)
        {
            var f = Compression.Quantization.FormatRegistry.TryGet(format);
            extra["prefill_activations"] = f?.GemmQuantizesActivations == true ? "q8" : "float";
            // Whether decode read the format's own layout (COMPRESS_REPACK=1), a copy beside the mapped weights.
            if (f?.HasDecodeLayout == true)
                extra["decode_layout"] = Compression.Kernels.DecodeLayout.Enabled ? "repacked" : "file";
        }
        var settings = new RunSettings { Seed = options.Seed, ContextLength = options.PrefillTokens, Extra = extra };
        return ResultRecord.Create(info, format, policy, new TaskInfo(TaskNameOf(r.Engine), ThroughputResult.Version), metrics, settings, size);
    }
}
