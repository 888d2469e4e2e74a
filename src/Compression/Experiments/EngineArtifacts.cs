// EngineArtifacts: the files another engine runs in a sweep — a GGUF per format for llama.cpp (the workbench's writer, or
// llama.cpp's quantizer for its own file types), an ONNX folder per format for ONNX Runtime — made once, deleted at the end.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Engines.OnnxRuntime;
using Compression.Export.Onnx;
using Compression.Model;
using Compression.Quantization;
using Compression.Reporting;

namespace Compression.Experiments;

/// <summary>
/// Writes and opens the models of non-workbench engines for one checkpoint. Files go to a scratch folder (the system temp
/// folder) that <see cref="Dispose"/> deletes; the records keep their sizes. A GGUF input is used by llama.cpp as it is,
/// an exported ONNX folder by ONNX Runtime.
/// </summary>
/// <param name="calibration">The spec's calibration set: llama.cpp's file types are then quantized with an importance matrix
/// computed on it (as llama-quantize --imatrix), which the i-quants (IQ2_XS, IQ1_S …) cannot do without.</param>
public sealed class EngineArtifacts(string checkpointPath, ModelInfo info, string storedFormat, IProgress<string>? activity = null,
    Quantization.Calibration.CalibrationSpec? calibration = null) : IDisposable
{
    private Quantization.Calibration.ImportanceMatrix? _imatrix;

    private readonly string _scratch = Path.Combine(Path.GetTempPath(), $"compress-engines-{Guid.NewGuid():N}");
    private readonly Dictionary<string, string> _made = new(StringComparer.Ordinal);

    /// <summary>The model of <paramref name="group"/> on its engine, sized from the file the engine loads.</summary>
    public EvaluatedModel Open(SweepGroup group)
    {
        switch (group.Engine)
        {
            case SweepEngines.LlamaCpp:
            {
                string gguf = group.IsBaseline ? BaselineGguf()
                    : SweepEngines.IsLlamaCppFileType(group.Format) ? LlamaCppFileType(group.Format)
                    : WorkbenchGguf(group.Format, group.Policy, group.PolicySource);
                var summary = GgufSummary.Read(gguf);
                var size = new SizeInfo(summary.TensorBytes, 8.0 * summary.TensorBytes / Math.Max(1, info.ParameterCount));
                return EvaluatedModel.OnEngine(info, group.Engine, group.Format, group.Policy, size, max => LlamaCppLanguageModel.Open(gguf, max))
                    with { ArtifactPath = gguf };
            }
            case SweepEngines.OnnxRuntime:
            {
                // An exported folder given as the model is its own baseline, run as it is.
                string dir = group.IsBaseline && OnnxModelFolder.IsExport(checkpointPath) ? checkpointPath
                    : Onnx(group.IsBaseline ? FormatRegistry.F32 : FormatRegistry.Get(group.Format));
                long bytes = ThroughputCell.OnnxFolderBytes(dir);
                var size = new SizeInfo(bytes, 8.0 * bytes / Math.Max(1, info.ParameterCount));
                return EvaluatedModel.OnEngine(info, group.Engine, group.Format, group.Policy, size, _ => OnnxRuntimeLanguageModel.Open(dir))
                    with { ArtifactPath = dir };
            }
            default:
                throw new ArgumentException($"engine '{group.Engine}' has no artifacts (the workbench runs models in memory)");
        }
    }

    /// <summary>The checkpoint itself when it is a GGUF, else a GGUF in its stored float format (f32 unless f16/bf16).</summary>
    private string BaselineGguf()
    {
        if (File.Exists(checkpointPath)) return checkpointPath;
        var format = FormatRegistry.TryGet(storedFormat) is { IsFloat: true, GgmlTypeId: not null } f ? f : FormatRegistry.F32;
        return Made($"gguf-baseline-{format.Name}", path => WriteGguf(path, (_, _) => format), ".gguf");
    }

    /// <param name="policySource">The spec's policy entry when the label is not it (a "plan:FILE" policy).</param>
    private string WorkbenchGguf(string formatName, string policyLabel, string? policySource)
    {
        var policy = SweepPlan.Policy(policySource ?? PolicyName(policyLabel), FormatRegistry.Get(formatName));
        return Made($"gguf-{formatName}-{policyLabel}", path => WriteGguf(path, (spec, name) => policy.Choose(spec, name)), ".gguf");
    }

    /// <summary>The spec's policy name behind a label ("default", "pure" or "llama.cpp").</summary>
    private static string PolicyName(string label) =>
        ExperimentSpecLoader.PolicyNames.FirstOrDefault(n => label == n || label.StartsWith(n + " ", StringComparison.Ordinal) || label.StartsWith(n + "(", StringComparison.Ordinal))
        ?? label;

    private string LlamaCppFileType(string name)
    {
        var type = LlamaCppQuantizer.Get(name);
        // From a float32 GGUF, so every file type starts from the same unquantized weights.
        string source = File.Exists(checkpointPath) && storedFormat is "f32" or "f16" or "bf16" ? checkpointPath : BaselineGguf();
        return Made($"llamacpp-{type.Name}", path =>
        {
            if (calibration is not null && _imatrix is null)
            {
                activity?.Report($"importance matrix: running the model on {calibration.Label}");
                _imatrix = LlamaCppQuantizer.ComputeImatrix(checkpointPath, calibration);
            }
            LlamaCppQuantizer.Quantize(source, type, path, imatrix: _imatrix);
        }, ".gguf");
    }

    private string Onnx(TensorFormat format)
    {
        var policy = SweepEngines.OnnxPolicy(format) ?? throw new NotSupportedException($"{SweepEngines.OnnxRuntime}: no ONNX layout for {format.Name}");
        return Made($"onnx-{format.Name}", dir =>
        {
            using var input = CheckpointOpener.Open(checkpointPath);
            // accuracy_level 0: MatMulNBits computes in float32 from the dequantized weights, so differences to the other
            // engines are the formats', not int8 activations'.
            OnnxExporter.Write(input, s => policy.Choose(s), dir, new OnnxExportOptions { AccuracyLevel = 0 });
        }, "");
    }

    private void WriteGguf(string path, Func<TensorSpec, string, TensorFormat> choose)
    {
        using var input = CheckpointOpener.Open(checkpointPath);
        GgufExporter.Write(input, input.LoadTokenizerData(), choose, path);
    }

    private string Made(string key, Action<string> make, string extension)
    {
        if (_made.TryGetValue(key, out var done)) return done;
        Directory.CreateDirectory(_scratch);
        string path = Path.Combine(_scratch, key + extension);
        activity?.Report($"writing {key}");
        make(path);
        return _made[key] = path;
    }

    public void Dispose()
    {
        try { if (Directory.Exists(_scratch)) Directory.Delete(_scratch, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* scratch in the temp folder: best effort */ }
    }
}
