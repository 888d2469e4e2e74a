// compress export: hand a model to another runtime — an ONNX Runtime GenAI folder (--to onnx) or a GPTQ-layout
// Hugging Face checkpoint for transformers/vLLM/TGI (--to hf-gptq).
using System.CommandLine;
using Compression.Checkpoints;
using Compression.Export.HfGptq;
using Compression.Export.Onnx;
using Compression.Quantization;
using Compression.Quantization.Formats;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class ExportCommand
{
    /// <summary>What one <c>compress export</c> run was asked to do.</summary>
    internal sealed record Request(string Model, string To, string Format, string Out)
    {
        public int Block { get; init; } = 128;
        public int AccuracyLevel { get; init; } = 4;
        public int? Context { get; init; }
        public bool Asymmetric { get; init; }
        public bool QuantizeLmHead { get; init; }
        /// <summary>hf-gptq: rtn (default) or gptq, the calibrated method run block by block on <see cref="Calibration"/>.</summary>
        public string Method { get; init; } = "rtn";
        public string? Calibration { get; init; }
        public int CalibrationSequences { get; init; } = 32;
        public int CalibrationLength { get; init; } = 256;
        public int Seed { get; init; } = 1234;
    }

    public static Command Create()
    {
        var model = CliOptions.Model();
        var to = new Option<string>("--to") { Description = "onnx (ONNX Runtime GenAI folder) or hf-gptq (GPTQ checkpoint for transformers/vLLM/TGI)", Required = true };
        var format = new Option<string>("--format", "-f")
        {
            Description = "onnx: f32, int8, int4 (also q8_0, q4_0); hf-gptq: int4 or int8",
            Required = true,
        };
        var output = new Option<string>("--out", "-o") { Description = "The folder to write (appears only when complete)", Required = true };
        var block = new Option<int>("--block") { Description = "Quantization group along each row: 32, 64 or 128 (default 128); hf-gptq also -1, one group per row", DefaultValueFactory = _ => 128 };
        var accuracy = new Option<int>("--accuracy-level")
        {
            Description = "onnx: MatMulNBits accuracy_level — 0 float32 arithmetic, 4 int8 activations (default 4)",
            DefaultValueFactory = _ => 4,
        };
        var context = new Option<int?>("--context") { Description = "onnx: positions in the rotary caches and genai max_length (default: max_position_embeddings)" };
        var asym = new Option<bool>("--asym") { Description = "hf-gptq: asymmetric groups (sym=false); default symmetric, which every GPTQ kernel runs" };
        var head = new Option<bool>("--quantize-lm-head") { Description = "Quantize the LM head too (default: kept at 16 bits, as the workbench's in-memory models do)" };
        var method = new Option<string>("--method")
        {
            Description = "hf-gptq: rtn (round-to-nearest, default) or gptq (calibrated on --calibration text, block by block, on the checkpoint's own grid)",
            DefaultValueFactory = _ => "rtn",
        };
        var calibration = CliOptions.Calibration();
        var command = new Command("export", "Export a model for another runtime: ONNX Runtime GenAI (--to onnx) or GPTQ-format safetensors (--to hf-gptq), streaming tensor by tensor")
        {
            model, to, format, output, block, accuracy, context, asym, head, method,
        };
        foreach (var option in calibration.All) command.Options.Add(option);
        command.SetAction((parse, cancel) =>
        {
            var request = new Request(parse.GetValue(model)!, parse.GetValue(to)!, parse.GetValue(format)!, parse.GetValue(output)!)
            {
                Block = parse.GetValue(block),
                AccuracyLevel = parse.GetValue(accuracy),
                Context = parse.GetValue(context),
                Asymmetric = parse.GetValue(asym),
                QuantizeLmHead = parse.GetValue(head),
                Method = parse.GetValue(method)!,
                Calibration = parse.GetValue(calibration.File),
                CalibrationSequences = parse.GetValue(calibration.Sequences),
                CalibrationLength = parse.GetValue(calibration.Length),
                Seed = parse.GetValue(calibration.Seed),
            };
            var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            try
            {
                string summary = "";
                err.Progress().AutoClear(true).HideCompleted(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("exporting");
                        summary = Run(request, (done, total, name) =>
                        {
                            task.MaxValue = Math.Max(1, total);
                            task.Value = done;
                            task.Description = Markup.Escape($"[{done + 1}/{total}] {name}");
                        }, cancel, line => err.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
                    });
                AnsiConsole.WriteLine(summary);
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                err.MarkupLine($"[yellow]cancelled:[/] nothing written at {Markup.Escape(request.Out)}");
                return Task.FromResult(130);
            }
            catch (Exception e) when (e is InvalidDataException or FileNotFoundException or DirectoryNotFoundException or ArgumentException or NotSupportedException)
            {
                err.MarkupLine($"[red]error:[/] {Markup.Escape(e.Message)}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    /// <summary>Runs an export; returns a one-paragraph summary. <paramref name="log"/> hears about each calibrated block.</summary>
    internal static string Run(Request r, Action<int, int, string>? progress, CancellationToken ct, Action<string>? log = null)
    {
        if (r.Block is not (32 or 64 or 128) && !(r.Block == -1 && r.To == "hf-gptq"))
            throw new ArgumentException($"--block {r.Block}: use 32, 64 or 128 (hf-gptq also -1, one group per row)");
        var method = Compression.Quantization.Methods.MethodRegistry.Get(r.Method);
        if (r.To != "hf-gptq" && method.NeedsCalibration) throw new ArgumentException($"--method {r.Method}: calibrated methods export to hf-gptq; --to {r.To} rounds to nearest");
        using var input = CheckpointOpener.Open(r.Model);
        switch (r.To)
        {
            case "onnx":
            {
                var policy = OnnxPolicy(r);
                var result = OnnxExporter.Write(input, s => policy.Choose(s), r.Out,
                    new OnnxExportOptions { AccuracyLevel = r.AccuracyLevel, Block = r.Block, ContextLength = r.Context },
                    progress is null ? null : new SyncProgress<OnnxExportProgress>(p => progress(p.TensorIndex, p.TensorCount, p.TensorName)), ct);
                var kinds = string.Join(", ", result.Tensors.GroupBy(t => t.Encoding).Select(g => $"{g.Count()} × {g.Key}"));
                return $"wrote {result.Directory}: model.onnx {result.ModelBytes:N0} bytes + model.onnx.data {result.DataBytes:N0} bytes ({kinds}); " +
                       $"tokenizer: {(result.TokenizerFiles.Count == 0 ? "none found" : string.Join(", ", result.TokenizerFiles))}";
            }
            case "hf-gptq":
            {
                int bits = r.Format switch
                {
                    "int4" => 4,
                    "int8" => 8,
                    _ => throw new ArgumentException($"--format {r.Format}: GPTQ checkpoints hold int4 or int8"),
                };
                var options = new GptqOptions { Bits = bits, GroupSize = r.Block, Symmetric = !r.Asymmetric, QuantizeLmHead = r.QuantizeLmHead };
                var exportProgress = progress is null ? null : new SyncProgress<OnnxExportProgress>(p => progress(p.TensorIndex, p.TensorCount, p.TensorName));
                GptqExportResult result;
                if (!method.NeedsCalibration) result = GptqExporter.Write(input, options, r.Out, exportProgress, ct);
                else
                {
                    var gptq = method as Compression.Quantization.Methods.GptqMethod
                        ?? throw new ArgumentException($"--method {method.Name}: hf-gptq export writes rtn or gptq codes");
                    var spec = CalibratedInput.Spec(gptq, r.Calibration, r.CalibrationSequences, r.CalibrationLength, r.Seed);
                    // GPTQ runs on the checkpoint's own grid (GptqFormat's codec), so the exporter copies its codes as they are.
                    var policy = options.Policy(input.Config);
                    using var calibrated = CalibratedInput.Open(r.Model, input, policy, gptq, spec, $"{gptq.Name} {policy.Format.Name}", allowNonFinite: false, ct, log);
                    result = GptqExporter.Write(calibrated, options with { Method = gptq.Name, Calibration = spec.Label, DampPercent = gptq.Options.Damp },
                        r.Out, exportProgress, ct);
                }
                return $"wrote {result.Directory}: {result.QuantizedTensors} linear layers as GPTQ {bits}-bit group {r.Block} ({(r.Asymmetric ? "asym" : "sym")}, {method.Name}), " +
                       $"{result.FileBytes:N0} bytes of safetensors";
            }
            default:
                throw new ArgumentException($"--to {r.To}: expected onnx or hf-gptq");
        }
    }

    /// <summary>--format for ONNX: f32 writes every weight as float32; a quantized format goes to the block linears (LM head on request).</summary>
    internal static QuantizationPolicy OnnxPolicy(Request r)
    {
        if (r.Format == "f32") return new QuantizationPolicy { Format = FormatRegistry.F32, KeepFormat = FormatRegistry.F32, Label = "f32" };
        TensorFormat format = r.Format switch
        {
            "int4" => r.Block switch { 32 => Int4Format.G32, 64 => Int4Format.G64, _ => Int4Format.G128 },
            "int8" => Int8Format.Instance,
            "q4_0" or "q8_0" => FormatRegistry.Get(r.Format),
            _ => throw new ArgumentException($"--format {r.Format}: ONNX export writes f32, int8, int4, q8_0 or q4_0"),
        };
        return QuantizationPolicy.Default(format) with { QuantizeLmHead = r.QuantizeLmHead };
    }

    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
