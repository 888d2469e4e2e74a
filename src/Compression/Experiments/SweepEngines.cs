// SweepEngines: the engines a sweep can evaluate on, and which formats each can run.
using Compression.Engines.LlamaCpp;
using Compression.Quantization;
using Compression.Quantization.Formats;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>
/// The evaluation engines by name. The workbench's forward runs every format in memory; llama.cpp runs a GGUF the sweep
/// writes (formats with a GGUF type, and llama.cpp's own file types made by its quantizer); ONNX Runtime runs an ONNX
/// folder the sweep exports (float32, and int8/int4/q8_0/q4_0 as MatMulNBits).
/// </summary>
public static class SweepEngines
{
    public const string TorchSharp = ResultKey.DefaultEngine;
    public const string LlamaCpp = LlamaCppRuntime.EngineName;
    public const string OnnxRuntime = Compression.Engines.OnnxRuntime.OnnxRuntimeLanguageModel.EngineName;

    /// <summary>Every engine name a spec or <c>--engine</c> may give.</summary>
    public static IReadOnlyList<string> Names { get; } = [TorchSharp, LlamaCpp, OnnxRuntime];

    /// <summary>The engines of a spec (default: the workbench's own).</summary>
    public static IReadOnlyList<string> Of(ExperimentSpec spec) => spec.Engines is { Count: > 0 } e ? e : [TorchSharp];

    /// <summary>An engine name as given, or an error listing the known ones.</summary>
    public static string Check(string engine) => Names.Contains(engine) ? engine
        : throw new ArgumentException($"unknown engine '{engine}'; known: {string.Join(", ", Names)}");

    /// <summary>Whether <paramref name="engine"/> can run <paramref name="format"/> (a registry format or a llama.cpp file type).</summary>
    public static bool Runs(string engine, string format)
    {
        var f = FormatRegistry.TryGet(format);
        return engine switch
        {
            TorchSharp => f is not null,
            LlamaCpp => f is null ? LlamaCppQuantizer.TryGet(format) is not null : f.GgmlTypeId is not null && f.CanQuantize,
            OnnxRuntime => f is not null && OnnxPolicy(f) is not null,
            _ => false,
        };
    }

    /// <summary>Whether a format name is one of llama.cpp's file types rather than a workbench format.</summary>
    public static bool IsLlamaCppFileType(string format) => FormatRegistry.TryGet(format) is null && LlamaCppQuantizer.TryGet(format) is not null;

    /// <summary>Engines with a throughput measurement in a sweep (ONNX Runtime's through GenAI's generator and KV cache).</summary>
    public static bool MeasuresThroughput(string engine) => engine is TorchSharp or LlamaCpp or OnnxRuntime;

    /// <summary>
    /// What the ONNX export writes for a format, as <c>compress export --to onnx</c> does: float32 throughout for f32, else the
    /// block linears in the format (MatMulNBits), the rest float32; null for a format MatMulNBits cannot hold.
    /// </summary>
    public static QuantizationPolicy? OnnxPolicy(TensorFormat format) => format switch
    {
        F32Format => new QuantizationPolicy { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32, Label = "f32" },
        Int8Format or Int4Format or Q8_0Format or Q4_0Format => QuantizationPolicy.Default(format) with { KeepFormat = FormatRegistry.F32 },
        _ => null,
    };
}
