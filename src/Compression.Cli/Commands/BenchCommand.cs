// compress bench: prefill and decode throughput, memory and roofline of a model on the workbench's forward and/or
// llama.cpp (the same GGUF file, prompt lengths, seed and threads), or on ONNX Runtime GenAI, and this machine's read bandwidth.
using System.CommandLine;
using System.Globalization;
using Compression.Engines.LlamaCpp;
using Compression.Engines.OnnxRuntime;
using Compression.Export.Onnx;
using Compression.Evaluation;
using Compression.Evaluation.Throughput;
using Compression.Experiments;
using Compression.Reporting;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model(required: false);
        var quantize = new Option<string?>("--quantize", "-q") { Description = "Quantize the model in memory to this format first (workbench engine), or export it in this format first (onnxruntime)" };
        var policy = new Option<string>("--policy") { Description = "Which tensors --quantize touches: default, pure or llama.cpp", DefaultValueFactory = _ => "default" };
        var prefill = new Option<int>("--prefill") { Description = "Prompt tokens prefilled in one batch", DefaultValueFactory = _ => 512 };
        var decode = new Option<int>("--decode") { Description = "Tokens decoded one at a time", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions") { Description = "Measured runs (median and spread reported)", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured warm-up runs", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random prompt tokens", DefaultValueFactory = _ => 1234 };
        var results = new Option<string>("--results") { Description = "Results folder", DefaultValueFactory = _ => "results" };
        var engine = new Option<string>("--engine") { Description = $"Engine to measure: {string.Join(", ", ThroughputCell.Engines)} (llama.cpp: a GGUF file; onnxruntime: an exported ONNX folder, or a checkpoint exported first)", DefaultValueFactory = _ => TorchSharpThroughputEngine.EngineName };
        var compare = new Option<bool>("--compare") { Description = "Run both engines on the same GGUF file, prompt lengths, seed and threads, and print the ratio" };
        var threads = new Option<int?>("--threads") { Description = "Threads for llama.cpp, ONNX Runtime and libtorch (default: all cores)" };
        var bandwidth = new Option<bool>("--bandwidth") { Description = "Measure this machine's read bandwidth first (kept in RESULTS/bandwidth.json; later runs reuse it for the roofline)" };
        var command = new Command("bench", "Measure prefill and decode tokens/s, memory and % of the read-bandwidth roofline (workbench forward, llama.cpp or ONNX Runtime GenAI)")
        {
            model, quantize, policy, prefill, decode, repetitions, warmup, seed, results, engine, compare, threads, bandwidth,
        };
        command.SetAction((parse, cancel) =>
        {
            var request = new Request(parse.GetValue(model), parse.GetValue(quantize), parse.GetValue(policy)!, parse.GetValue(engine)!,
                parse.GetValue(compare), parse.GetValue(threads) ?? Environment.ProcessorCount, parse.GetValue(bandwidth), parse.GetValue(results)!)
            {
                Options = new ThroughputOptions
                {
                    PrefillTokens = parse.GetValue(prefill), DecodeTokens = parse.GetValue(decode),
                    Repetitions = parse.GetValue(repetitions), WarmupRuns = parse.GetValue(warmup), Seed = parse.GetValue(seed),
                },
            };
            return Task.FromResult(Run(request, cancel));
        });
        return command;
    }

    internal sealed record Request(string? Model, string? Quantize, string Policy, string Engine, bool Compare, int Threads, bool MeasureBandwidth, string Results)
    {
        public ThroughputOptions Options { get; init; } = new();
    }

    internal static int Run(Request r, CancellationToken cancel)
    {
        if (!ThroughputCell.Engines.Contains(r.Engine))
            throw new ArgumentException($"--engine {r.Engine}: expected {string.Join(" or ", ThroughputCell.Engines)}");
        if (r.Threads < 1) throw new ArgumentException($"--threads must be positive, got {r.Threads}");
        bool ours = r.Compare || r.Engine == TorchSharpThroughputEngine.EngineName;
        bool llama = r.Compare || r.Engine == LlamaCppRuntime.EngineName;
        bool onnx = r.Engine == OnnxRuntimeLanguageModel.EngineName;
        if (r.Model is null && !r.MeasureBandwidth) throw new ArgumentException("give --model PATH (and/or --bandwidth)");
        if (r.Model is not null && OnnxModelFolder.IsExport(r.Model) && !onnx)
            throw new ArgumentException($"--model {r.Model}: an ONNX Runtime model folder; bench it with --engine onnxruntime");
        if (onnx && r.Compare) throw new ArgumentException("--compare runs the workbench and llama.cpp on one GGUF; bench onnxruntime on its own");
        if (llama && r.Model is not null)
        {
            if (r.Quantize is not null)
                throw new ArgumentException($"--quantize: llama.cpp runs the GGUF file as it is; write one first (compress quantize --format {r.Quantize} --out FILE.gguf) and bench that");
            if (!File.Exists(r.Model) || !r.Model.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                throw new ArgumentException($"--model {r.Model}: llama.cpp needs a .gguf file (compress quantize writes one from a Hugging Face checkpoint)");
        }
        string root = Path.GetFullPath(r.Results);
        double? bandwidth = Bandwidth(r, root, cancel);
        if (r.Model is null) return 0;
        var options = r.Options with { ReadBandwidthBytesPerSecond = bandwidth };

        // llama.cpp first: it needs no TorchSharp state, and nothing the workbench leaves behind (its libtorch OpenMP
        // threads, freed-but-kept heap) can then weigh on the other engine's numbers.
        var records = new List<ResultRecord>();
        if (llama)
        {
            ResultRecord? record = null;
            SweepConsole.Err.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"llama.cpp {Path.GetFileName(r.Model)} ({r.Threads} threads)");
                    record = ThroughputCell.RunLlamaCpp(r.Model, options, r.Threads,
                        new SyncProgress(p => { task.MaxValue = p.Total; task.Value = p.Done; }), cancel);
                });
            new ResultsStore(root).Save(record!);
            records.Add(record!);
        }
        if (onnx)
        {
            ResultRecord? record = null;
            SweepConsole.Err.Progress().AutoClear(true).HideCompleted(true)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"onnxruntime-genai {Path.GetFileName(r.Model!.TrimEnd('/', '\\'))} ({r.Threads} threads)");
                    record = OnnxThroughput(r, options, new SyncProgress(p => { task.MaxValue = p.Total; task.Value = p.Done; }),
                        m => task.Description = Markup.Escape(m), cancel);
                });
            new ResultsStore(root).Save(record!);
            records.Add(record!);
        }
        else if (ours)
        {
            TorchSharp.torch.set_num_threads(r.Threads);
            var spec = new ExperimentSpec
            {
                Name = "compress bench",
                Model = new ModelSource { Path = r.Model },
                Formats = r.Quantize is null ? null : [r.Quantize],
                Policies = [r.Policy],
                Baseline = r.Quantize is null,
                Tasks = new TaskSpecs
                {
                    Throughput = new ThroughputSpec
                    {
                        Prefill = options.PrefillTokens, Decode = options.DecodeTokens, Repetitions = options.Repetitions,
                        Warmup = options.WarmupRuns, ReadBandwidth = bandwidth,
                    },
                },
                Seeds = [options.Seed],
                Output = r.Results,
            };
            spec = ExperimentSpecLoader.Resolve(ExperimentSpecLoader.Validate(spec, "compress bench"), Directory.GetCurrentDirectory());
            var outcome = SweepConsole.Run(spec, "compress bench", new SweepOptions { SkipCompleted = false, WriteReport = false }, cancel);
            if (outcome is null) return 130;
            records.AddRange(outcome.Records);
        }
        PrintTable(records);
        SweepConsole.Err.MarkupLine($"[grey]{records.Count} record(s) written to {Markup.Escape(Path.Combine(root, "records"))}[/]");
        return 0;
    }

    /// <summary>
    /// ONNX Runtime GenAI: an exported folder as it is, or a checkpoint exported first to a scratch folder as a sweep exports
    /// it (f32, or the block linears in --quantize's format; MatMulNBits accuracy_level 0), filed like a sweep's cell.
    /// </summary>
    private static ResultRecord OnnxThroughput(Request r, ThroughputOptions options, IProgress<EvaluationProgress> progress,
        Action<string> activity, CancellationToken cancel)
    {
        string model = r.Model!;
        if (OnnxModelFolder.IsExport(model))
        {
            if (r.Quantize is not null)
                throw new ArgumentException($"--quantize: {model} is an exported ONNX folder, run as it is; export the format from the checkpoint (compress export --to onnx --format {r.Quantize})");
            return ThroughputCell.RunOnnxRuntime(model, options, r.Threads, progress, cancel);
        }
        if (r.Quantize is { } q && !SweepEngines.Runs(SweepEngines.OnnxRuntime, q))
            throw new ArgumentException($"--quantize {q}: ONNX export holds f32, int8, int4, q8_0 or q4_0");
        if (r.Policy != "default")
            throw new ArgumentException($"--policy {r.Policy}: an ONNX export has one layout per format (the default policy)");
        var (info, storedFormat) = SweepRunner.Describe(model);
        using var artifacts = new EngineArtifacts(model, info, storedFormat, new SyncActivity(activity));
        string format = r.Quantize is { } f ? Compression.Quantization.FormatRegistry.Get(f).Name : storedFormat;
        string policy = r.Quantize is { } g ? SweepPlan.Policy(r.Policy, Compression.Quantization.FormatRegistry.Get(g)).Label : EvaluatedModel.BaselinePolicy;
        var evaluated = artifacts.Open(new SweepGroup(format, policy, r.Quantize is null, [], Engine: SweepEngines.OnnxRuntime));
        return ThroughputCell.RunOn(evaluated, options, progress, cancel, r.Threads);
    }

    /// <summary>Measures (--bandwidth) or reuses the stored bandwidth of this machine at this thread count; null when neither.</summary>
    private static double? Bandwidth(Request r, string root, CancellationToken cancel)
    {
        if (r.MeasureBandwidth)
        {
            BandwidthResult? measured = null;
            SweepConsole.Err.Status().Start($"measuring read bandwidth ({r.Threads} threads over 1 GiB)", _ =>
                measured = ReadBandwidth.Measure(new BandwidthOptions { Threads = r.Threads }, cancel));
            BandwidthStore.Save(root, measured!);
            AnsiConsole.MarkupLine($"read bandwidth: [bold]{measured!.GigabytesPerSecond:F2} GB/s[/] ({r.Threads} threads streaming {measured.Bytes / (double)(1L << 30):F2} GiB, " +
                $"best of {measured.Passes}; median {measured.MedianBytesPerSecond / 1e9:F2} GB/s) → {Markup.Escape(Path.Combine(root, BandwidthStore.FileName))}");
            return measured.BytesPerSecond;
        }
        if (BandwidthStore.TryLoad(root, r.Threads) is { } stored)
        {
            SweepConsole.Err.MarkupLine($"[grey]read bandwidth {stored.BytesPerSecond / 1e9:F2} GB/s from {Markup.Escape(Path.Combine(root, BandwidthStore.FileName))} (measured {stored.TimeUtc:u})[/]");
            return stored.BytesPerSecond;
        }
        SweepConsole.Err.MarkupLine("[grey]no bandwidth measured for this machine and thread count: add --bandwidth for the roofline column[/]");
        return null;
    }

    /// <summary>One row per record, both engines side by side, with the ratio of the workbench to llama.cpp when both ran.</summary>
    internal static void PrintTable(IReadOnlyList<ResultRecord> records)
    {
        if (records.Count == 0) return;
        var table = new Table().Border(TableBorder.Rounded).Title("Throughput");
        foreach (var c in new[] { "model", "format", "engine", "threads", "prefill tok/s", "decode tok/s", "ms/token", "MB read/token", "roofline tok/s", "% of roofline", "run peak RSS GB", "peak anon GB" })
            table.AddColumn(new TableColumn(c).RightAligned());
        foreach (var rec in records)
        {
            string Get(string metric, string format, double scale = 1) =>
                rec.Metrics.TryGetValue(metric, out var v) ? (v.Value * scale).ToString(format, CultureInfo.InvariantCulture) : "—";
            table.AddRow(Markup.Escape(rec.Model.Name), Markup.Escape(rec.Policy == EvaluatedModel.BaselinePolicy ? rec.Format : $"{rec.Format} ({rec.Policy})"),
                Markup.Escape(rec.Settings.Extra?.GetValueOrDefault("engine") ?? TorchSharpThroughputEngine.EngineName),
                rec.Settings.Extra?.GetValueOrDefault("threads") ?? "",
                Get(MetricNames.PrefillTokensPerSecond, "0.00"), Get(MetricNames.DecodeTokensPerSecond, "0.00"), Get(MetricNames.DecodeMsPerToken, "0.0"),
                Get(MetricNames.WeightBytesPerToken, "#,0.0", 1e-6), Get(MetricNames.RooflineTokensPerSecond, "0.00"),
                Get(MetricNames.RooflineFraction, "0.0", 100), Get(MetricNames.RunPeakResidentBytes, "0.00", 1e-9), Get(MetricNames.PeakAnonymousBytes, "0.00", 1e-9));
        }
        AnsiConsole.Write(table);
        var ours = records.FirstOrDefault(x => x.Task.Name == ThroughputCell.TaskName);
        var theirs = records.FirstOrDefault(x => x.Task.Name == ThroughputCell.TaskNameOf(LlamaCppRuntime.EngineName));
        if (ours is not null && theirs is not null)
        {
            double Ratio(string m) => ours.Metrics[m].Value / theirs.Metrics[m].Value;
            AnsiConsole.MarkupLine($"workbench ÷ llama.cpp: prefill [bold]{Ratio(MetricNames.PrefillTokensPerSecond):0.00}×[/], decode [bold]{Ratio(MetricNames.DecodeTokensPerSecond):0.00}×[/]");
        }
    }

    /// <summary>Reports on the measuring thread (Progress&lt;T&gt; would post out of order to the thread pool).</summary>
    private sealed class SyncProgress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }

    private sealed class SyncActivity(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
