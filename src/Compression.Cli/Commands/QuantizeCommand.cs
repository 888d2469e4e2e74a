// compress quantize: stream a checkpoint (HF directory or GGUF) into a quantized GGUF that llama.cpp loads.
using System.CommandLine;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Model;
using Compression.Inference;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class QuantizeCommand
{
    /// <summary>What one <c>compress quantize</c> run was asked to do.</summary>
    internal sealed record Request(string Model, string Format, string Out)
    {
        public bool Pure { get; init; }
        public IReadOnlyList<string> TensorTypes { get; init; } = [];
        public string? KeepEmbeddingsFormat { get; init; }
        public bool QuantizeEmbeddings { get; init; }
        public bool QuantizeLmHead { get; init; }
        public bool AllowNonFinite { get; init; }
        /// <summary>The quantization method (rtn, gptq, awq, imatrix); calibrated ones read <see cref="Calibration"/>.</summary>
        public string Method { get; init; } = "rtn";
        public string? Calibration { get; init; }
        public int CalibrationSequences { get; init; } = 32;
        public int CalibrationLength { get; init; } = 256;
        public int Seed { get; init; } = 1234;
    }

    public static Command Create()
    {
        var model = CliOptions.Model();
        var format = new Option<string>("--format", "-f") { Description = "Target format: q8_0, q6_k, q4_0, tq2_0, tq1_0, q1_0 (or f16, bf16, f32)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "The GGUF file to write (appears only when complete)", Required = true };
        var pure = new Option<bool>("--pure") { Description = "Every 2-D tensor, embeddings and LM head included, in the one format (llama-quantize --pure)" };
        var tensorType = new Option<string[]>("--tensor-type")
        {
            Description = "PATTERN=FMT: tensors whose HF or GGUF name matches the regex get FMT (repeatable; first match wins)",
            AllowMultipleArgumentsPerToken = false,
        };
        var keep = new Option<string?>("--keep-embeddings-format") { Description = "Format of the embeddings and LM head when they are not quantized (default f16)" };
        var quantizeEmbeddings = new Option<bool>("--quantize-embeddings") { Description = "Quantize the token embedding too" };
        var quantizeHead = new Option<bool>("--quantize-lm-head") { Description = "Quantize the LM head too" };
        var allowNonFinite = CliOptions.AllowNonFinite();
        var engine = new Option<string>("--engine")
        {
            Description = "torchsharp (the workbench's writer) or llama.cpp (mainline's quantizer, llama.cpp's file types: Q4_K_M, Q5_K_M, Q6_K, Q3_K_M, Q2_K, IQ4_XS …; " +
                "IQ2_XS, IQ2_XXS, IQ2_S, IQ1_S, IQ1_M, Q2_K_S with --calibration, which computes an importance matrix)",
            DefaultValueFactory = _ => "torchsharp",
        };
        var method = new Option<string>("--method")
        {
            Description = "Quantization method: rtn (round-to-nearest), gptq, awq or imatrix (calibrated: run block by block on --calibration text)",
            DefaultValueFactory = _ => "rtn",
        };
        var calibration = CliOptions.Calibration();
        var command = new Command("quantize", "Write a quantized GGUF (llama.cpp layout, tokenizer included), streaming tensor by tensor")
        {
            model, format, output, pure, tensorType, keep, quantizeEmbeddings, quantizeHead, allowNonFinite, engine,
            method,
        };
        foreach (var option in calibration.All) command.Options.Add(option);
        command.SetAction((parse, cancel) =>
        {
            var request = new Request(parse.GetValue(model)!, parse.GetValue(format)!, parse.GetValue(output)!)
            {
                Pure = parse.GetValue(pure),
                TensorTypes = parse.GetValue(tensorType) ?? [],
                KeepEmbeddingsFormat = parse.GetValue(keep),
                QuantizeEmbeddings = parse.GetValue(quantizeEmbeddings),
                QuantizeLmHead = parse.GetValue(quantizeHead),
                AllowNonFinite = parse.GetValue(allowNonFinite),
                Method = parse.GetValue(method)!,
                Calibration = parse.GetValue(calibration.File),
                CalibrationSequences = parse.GetValue(calibration.Sequences),
                CalibrationLength = parse.GetValue(calibration.Length),
                Seed = parse.GetValue(calibration.Seed),
            };
            var err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            switch (parse.GetValue(engine))
            {
                case "torchsharp": break;
                case Compression.Engines.LlamaCpp.LlamaCppRuntime.EngineName when request.Method != "rtn":
                    throw new ArgumentException($"--engine llama.cpp --method {request.Method}: llama.cpp's quantizer rounds to nearest; calibrated methods are the workbench writer's");
                case Compression.Engines.LlamaCpp.LlamaCppRuntime.EngineName:
                    if (request.TensorTypes.Count > 0 || request.KeepEmbeddingsFormat is not null || request.QuantizeEmbeddings || request.QuantizeLmHead)
                        throw new ArgumentException("--engine llama.cpp: --tensor-type, --keep-embeddings-format, --quantize-embeddings and --quantize-lm-head are the workbench writer's; llama.cpp's file type decides");
                    PrintLlamaCpp(RunLlamaCpp(request, line => err.MarkupLine($"[grey]{Markup.Escape(line)}[/]"), cancel));
                    return Task.FromResult(0);
                case var other: throw new ArgumentException($"--engine {other}: expected torchsharp or llama.cpp");
            }
            try
            {
                GgufExportResult? result = null;
                err.Progress().AutoClear(true).HideCompleted(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(),
                             new TransferSpeedColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask("quantizing");
                        result = Run(request, new SyncProgress(p =>
                        {
                            task.MaxValue = Math.Max(1, p.TotalBytes);
                            task.Value = p.BytesWritten;
                            task.Description = Markup.Escape($"[{p.TensorIndex + 1}/{p.TensorCount}] {p.TensorName}");
                        }), cancel, line => err.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
                    });
                PrintSummary(result!);
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                err.MarkupLine($"[yellow]cancelled:[/] no file written ({Markup.Escape(request.Out)})");
                return Task.FromResult(130);
            }
        });
        return command;
    }

    /// <summary>
    /// <c>--engine llama.cpp</c>: mainline's quantizer, given an importance matrix computed on <c>--calibration</c> text when
    /// there is one (a type that needs one and has none is refused before anything is computed).
    /// </summary>
    internal static Compression.Engines.LlamaCpp.LlamaCppQuantizeResult RunLlamaCpp(Request r, Action<string>? log, CancellationToken ct)
    {
        var type = Compression.Engines.LlamaCpp.LlamaCppQuantizer.Get(r.Format);
        if (type.NeedsImatrix && r.Calibration is null)
            throw new ArgumentException($"--engine llama.cpp --format {type.Name} needs an importance matrix: add --calibration FILE " +
                "(text or JSONL the model is run on to compute it, as llama-imatrix does)");
        Quantization.Calibration.ImportanceMatrix? imatrix = null;
        if (r.Calibration is not null)
        {
            var spec = new CalibrationSpec(r.Calibration, r.CalibrationSequences, r.CalibrationLength, r.Seed);
            log?.Invoke($"importance matrix: running {r.Model} on {spec.Label}");
            imatrix = Compression.Engines.LlamaCpp.LlamaCppQuantizer.ComputeImatrix(r.Model, spec, ct);
        }
        log?.Invoke($"llama.cpp quantizing {r.Model} to {type.Name}{(imatrix is null ? "" : $" with an importance matrix of {imatrix.Entries.Count} entries")}");
        return Compression.Engines.LlamaCpp.LlamaCppQuantizer.Quantize(r.Model, type, r.Out, r.Pure, ct: ct, imatrix: imatrix);
    }

    /// <summary>The policy a request describes: default, --pure, or overrides on top of either.</summary>
    internal static QuantizationPolicy Policy(Request r)
    {
        var format = Writable(FormatRegistry.Get(r.Format), "--format");
        var policy = r.Pure ? QuantizationPolicy.PureOf(format) : QuantizationPolicy.Default(format);
        var overrides = QuantizationPolicy.ParseOverrides(r.TensorTypes);
        foreach (var (_, f) in overrides) Writable(f, "--tensor-type");
        return policy with
        {
            Overrides = overrides,
            QuantizeEmbeddings = r.QuantizeEmbeddings,
            QuantizeLmHead = r.QuantizeLmHead,
            KeepFormat = r.KeepEmbeddingsFormat is { } k ? Writable(FormatRegistry.Get(k), "--keep-embeddings-format") : policy.KeepFormat,
        };
    }

    /// <summary>
    /// Opens the input, checks it has a tokenizer, and streams the GGUF out (the file appears only when complete). A
    /// calibrated method runs block by block as the writer reaches each block (<see cref="CalibratedCheckpoint"/>), its
    /// packed bytes written as they are; <paramref name="log"/> hears about each block.
    /// </summary>
    internal static GgufExportResult Run(Request r, IProgress<GgufExportProgress>? progress, CancellationToken ct, Action<string>? log = null)
    {
        var policy = Policy(r);
        var method = MethodRegistry.Get(r.Method);
        var spec = method.NeedsCalibration ? CalibratedInput.Spec(method, r.Calibration, r.CalibrationSequences, r.CalibrationLength, r.Seed) : null;
        using var input = CheckpointOpener.Open(r.Model);
        if (string.Equals(Path.GetFullPath(r.Out), Path.GetFullPath(input.Path), StringComparison.Ordinal))
            throw new ArgumentException($"--out {r.Out}: the output would replace the input checkpoint");
        // A GGUF without a vocabulary passes through as no_vocab (llama.cpp loads such files); a Hugging Face
        // directory without tokenizer.json is more likely incomplete, so it is refused.
        // Rows a format cannot hold fall back to the keep-format (q6_k, tq1_0 and tq2_0 need rows of multiples of 256);
        // a model none of whose matrices fit would come out with nothing in the requested format, so say so instead.
        var format = FormatRegistry.Get(r.Format);
        var matrices = LlamaTensorLayout.Expected(input.Config).Where(s => s.Shape.Length == 2).ToList();
        if (!matrices.Any(s => format.Supports(s.Shape[^1])))
            throw new ArgumentException($"--format {format.Name}: no matrix of {r.Model} has rows that fit its blocks of {format.BlockSize} " +
                $"(row lengths {string.Join(", ", matrices.Select(s => s.Shape[^1]).Distinct().Order())}); nothing would be stored as {format.Name}");
        var tokenizer = input.LoadTokenizerData();
        if (tokenizer is null && input is GgufCheckpoint g && g.File.TryGetString("tokenizer.ggml.model") is { } kind and not "no_vocab")
            throw new NotSupportedException($"{r.Model}: tokenizer.ggml.model = {kind}: only byte-level BPE (gpt2) vocabularies can be written; " +
                "the file would lose its vocabulary");
        if (tokenizer is null && input is not GgufCheckpoint)
            throw new InvalidDataException(
                $"{r.Model}: the checkpoint has no tokenizer (tokenizer.json beside config.json); a GGUF for llama.cpp should carry one " +
                "(a GGUF input without one is written through as no_vocab)");
        var options = new GgufExportOptions { AllowNonFinite = r.AllowNonFinite };
        if (!method.NeedsCalibration)
            return GgufExporter.Write(input, tokenizer, (spec, name) => policy.Choose(spec, name), r.Out, options, progress, ct);

        using var calibrated = CalibratedInput.Open(r.Model, input, policy, method, spec!, $"{method.Name} {r.Format}", r.AllowNonFinite, ct, log);
        options = options with
        {
            Name = (input as GgufCheckpoint)?.Name,
            Metadata = [new("compression.method", method.Name), new("compression.calibration", spec.Label)],
        };
        return GgufExporter.Write(calibrated, tokenizer, (s, name) => policy.Choose(s, name), r.Out, options, progress, ct);
    }

    private static TensorFormat Writable(TensorFormat f, string option)
    {
        if (f.GgmlTypeId is null)
        {
            string nearest = f.NominalBits >= 8 ? "q8_0" : f.NominalBits >= 4 ? "q4_0" : "q1_0";
            throw new ArgumentException(
                $"{option} {f.Name}: this format has no GGUF type, so llama.cpp could not load the file; write {nearest} instead, " +
                $"or evaluate {f.Name} in memory (compress eval --quantize {f.Name})");
        }
        if (!f.CanQuantize) throw new ArgumentException($"{option} {f.Name}: the workbench reads this format but cannot produce it");
        return f;
    }

    private static void PrintSummary(GgufExportResult result)
    {
        var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(result.Path))
            .AddColumn("format").AddColumn(new TableColumn("tensors").RightAligned()).AddColumn(new TableColumn("weights").RightAligned())
            .AddColumn(new TableColumn("bytes").RightAligned()).AddColumn(new TableColumn("bits/weight").RightAligned());
        static long Weights(GgufExportedTensor t) => t.Bytes / t.Format.BytesPerBlock * t.Format.BlockSize;
        foreach (var g in result.Tensors.GroupBy(t => t.Format).OrderByDescending(g => g.Sum(t => t.Bytes)))
        {
            long bytes = g.Sum(t => t.Bytes), weights = g.Sum(Weights);
            table.AddRow(g.Key.Name, g.Count().ToString(), $"{weights:N0}", $"{bytes:N0}", $"{8.0 * bytes / weights:F3}");
        }
        long total = result.Tensors.Sum(t => t.Bytes), all = result.Tensors.Sum(Weights);
        table.AddRow("[bold]tensor data[/]", result.Tensors.Count.ToString(), $"{all:N0}", $"[bold]{total:N0}[/]", $"{8.0 * total / all:F3}");
        table.AddRow("[bold]file[/]", "", "", $"[bold]{result.FileBytes:N0}[/]", $"{8.0 * result.FileBytes / all:F3}");
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"wrote {Markup.Escape(result.Path)}: {result.FileBytes:N0} bytes ({result.FileBytes / (double)(1L << 30):F3} GiB), " +
            $"metadata and padding {result.FileBytes - total:N0} bytes");
    }

    private static void PrintLlamaCpp(Compression.Engines.LlamaCpp.LlamaCppQuantizeResult result)
    {
        var types = string.Join(", ", result.Summary.TensorsPerType.OrderByDescending(p => p.Value).Select(p => $"{p.Value} × {p.Key}"));
        AnsiConsole.MarkupLine(Markup.Escape($"wrote {result.Path}: {result.FileBytes:N0} bytes, tensor data {result.Summary.TensorBytes:N0} bytes = " +
            $"{result.Summary.BitsPerWeight:F3} bits/weight ({types})"));
        if (result.Imatrix is { } m)
            AnsiConsole.MarkupLine(Markup.Escape($"importance matrix: llama.cpp took {m.Entries} entries ({m.Dataset}, {m.Tokens:N0} tokens)" +
                (m.TensorsWithout.Count > 0 ? $"; quantized without one: {string.Join(", ", m.TensorsWithout)}" : "") +
                "; recorded as quantize.imatrix.* in the file"));
    }

    /// <summary>Reports on the exporting thread (Progress&lt;T&gt; would post out of order to the thread pool).</summary>
    private sealed class SyncProgress(Action<GgufExportProgress> report) : IProgress<GgufExportProgress>
    {
        public void Report(GgufExportProgress value) => report(value);
    }
}
