// CalibratedInput: a checkpoint seen through a calibrated method, for the commands that write files (quantize → GGUF,
// export → GPTQ layout): the model loaded once, the calibration text tokenized, blocks computed as the writer reads them.
using Compression.Checkpoints;
using Compression.Inference;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;

namespace Compression.Cli.Commands;

internal static class CalibratedInput
{
    /// <summary>The calibration set a calibrated <paramref name="method"/> reads; a clear error when --calibration is missing.</summary>
    internal static CalibrationSpec Spec(QuantizationMethod method, string? file, int sequences, int length, int seed) =>
        file is null
            ? throw new ArgumentException($"--method {method.Name} needs --calibration FILE (a text file of paragraphs, or JSONL with a \"text\" field)")
            : new CalibrationSpec(file, sequences, length, seed);

    /// <summary>
    /// <paramref name="input"/> seen through <paramref name="method"/>: the model loaded from <paramref name="model"/> (weights
    /// not stored as float32 stay packed and mapped, so an 8B in bf16 takes no anonymous memory), the calibration set
    /// tokenized with its tokenizer. <paramref name="log"/> hears about each block (time, memory); cancellation stops between blocks.
    /// </summary>
    internal static CalibratedCheckpoint Open(string model, Checkpoint input, QuantizationPolicy policy, QuantizationMethod method, CalibrationSpec spec,
        string label, bool allowNonFinite, CancellationToken ct, Action<string>? log)
    {
        var session = ModelSession.Open(model, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks, AllowNonFinite = allowNonFinite });
        try
        {
            var tokenizer = session.Tokenizer ?? throw new InvalidDataException($"{model}: the checkpoint has no tokenizer; calibration text needs one");
            var set = CalibrationSet.Load(spec, t => tokenizer.Encode(t, addBos: true));
            log?.Invoke($"{method.Name}: calibrating on {set.Spec.Label}, {session.Config.NumLayers} blocks");
            var run = new CalibrationRun(session.Model, policy, method, set.Sequences);
            var total = System.Diagnostics.Stopwatch.StartNew();
            return new CalibratedCheckpoint(input, run, label, (i, took) =>
            {
                var m = Compression.Evaluation.Throughput.ProcessMemory.Current();
                // CPU seconds beside wall seconds: on a shared machine the wall time says more about the neighbours.
                double cpu = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds;
                log?.Invoke($"block {i + 1}/{session.Config.NumLayers}: {took.TotalSeconds:F1} s (total {total.Elapsed.TotalSeconds:F0} s, process CPU {cpu:F0} s); " +
                    $"resident {m.ResidentBytes / 1e9:F2} GB (anonymous {m.AnonymousBytes / 1e9:F2}, mapped files {m.FileBytes / 1e9:F2}), peak {m.PeakResidentBytes / 1e9:F2} GB");
                ct.ThrowIfCancellationRequested();
            }, owned: session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
