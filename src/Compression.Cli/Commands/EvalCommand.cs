// compress eval: perplexity, KL divergence and multiple-choice accuracy of a model, as loaded or quantized in memory.
using System.CommandLine;
using Compression.Experiments;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class EvalCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var quantize = new Option<string?>("--quantize", "-q") { Description = "Quantize the model in memory to this format (q8_0, int4, q1_0 …) and evaluate that; the model as loaded is the KL baseline" };
        var policy = new Option<string>("--policy") { Description = "Which tensors --quantize touches: default, pure or llama.cpp", DefaultValueFactory = _ => "default" };
        var perplexity = new Option<string?>("--perplexity") { Description = "Raw text file for perplexity and bits per byte (e.g. wiki.test.raw)" };
        var kl = new Option<string?>("--kl") { Description = "Raw text file for KL divergence of the --quantize'd model against the model as loaded" };
        var tasks = new Option<string[]>("--tasks") { Description = "Multiple-choice JSONL files (globs allowed); one record per file", AllowMultipleArgumentsPerToken = true };
        var context = new Option<int>("--context") { Description = "Window length for perplexity and KL divergence", DefaultValueFactory = _ => 512 };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Evaluate only the first N tokens of the text files" };
        var documents = new Option<bool>("--documents") { Description = "The text files hold documents separated by blank lines: score each from its own BOS (as lm-evaluation-harness does per document)" };
        var fewShot = new Option<int>("--few-shot") { Description = "Solved examples before each question", DefaultValueFactory = _ => 0 };
        var limit = new Option<int?>("--limit") { Description = "Evaluate only the first N documents of each task file" };
        var seed = new Option<int>("--seed") { Description = "Seed of the few-shot draw", DefaultValueFactory = _ => 1234 };
        var engine = new Option<string>("--engine") { Description = "torchsharp (the workbench's forward), llama.cpp (a GGUF: the --model file, or one written for --quantize) or onnxruntime (an ONNX folder exported from --model, or --model itself when it is an exported folder)", DefaultValueFactory = _ => "torchsharp" };
        var klBaseline = new Option<string?>("--kl-baseline") { Description = "Engine whose float model is the KL baseline (default: --engine's); e.g. --engine llama.cpp --kl-baseline torchsharp" };
        var results = new Option<string>("--results") { Description = "Results folder (one JSON record per measurement)", DefaultValueFactory = _ => "results" };
        var command = new Command("eval", "Evaluate a model (as loaded, or quantized in memory): perplexity, KL divergence vs the loaded model, multiple-choice accuracy")
        {
            model, quantize, policy, perplexity, kl, tasks, context, maxTokens, documents, fewShot, limit, seed, engine, klBaseline, results,
        };
        command.SetAction((parse, cancel) =>
        {
            string? format = parse.GetValue(quantize);
            string engineName = SweepEngines.Check(parse.GetValue(engine)!);
            string? klEngine = parse.GetValue(klBaseline) is { } k0 ? SweepEngines.Check(k0) : null;
            if (parse.GetValue(kl) is not null && format is null && (klEngine ?? engineName) == engineName)
                throw new ArgumentException("--kl compares a quantized model with the model as loaded: add --quantize FORMAT (or --kl-baseline ENGINE to compare engines)");
            if (format is not null && engineName != SweepEngines.TorchSharp && !SweepEngines.Runs(engineName, format))
                throw new ArgumentException($"--quantize {format}: the {engineName} engine cannot run this format");
            string[] files = parse.GetValue(tasks) ?? [];
            if (parse.GetValue(perplexity) is null && parse.GetValue(kl) is null && files.Length == 0)
                throw new ArgumentException("nothing to evaluate: give --perplexity FILE, --kl FILE and/or --tasks FILES");
            var spec = new ExperimentSpec
            {
                Name = "compress eval",
                Model = new ModelSource { Path = parse.GetValue(model) },
                Formats = format is null ? null : [format],
                Policies = [parse.GetValue(policy)!],
                Baseline = format is null,
                Tasks = new TaskSpecs
                {
                    Perplexity = parse.GetValue(perplexity) is { } p ? new PerplexitySpec { File = p, Context = parse.GetValue(context), MaxTokens = parse.GetValue(maxTokens), DocumentSeparator = parse.GetValue(documents) ? "\n\n" : null } : null,
                    Kl = parse.GetValue(kl) is { } k ? new KlSpec { File = k, Context = parse.GetValue(context), MaxTokens = parse.GetValue(maxTokens), DocumentSeparator = parse.GetValue(documents) ? "\n\n" : null, BaselineEngine = klEngine } : null,
                    Choice = files.Length > 0 ? new ChoiceSpec { Files = files, FewShot = parse.GetValue(fewShot), Limit = parse.GetValue(limit) } : null,
                },
                Engines = [engineName],
                Seeds = [parse.GetValue(seed)],
                Output = parse.GetValue(results),
            };
            return Task.FromResult(Run(spec, "compress eval", cancel));
        });
        return command;
    }

    /// <summary>Validates and runs an in-memory spec, measuring every cell again; prints the records it wrote.</summary>
    internal static int Run(ExperimentSpec spec, string source, CancellationToken cancel)
    {
        spec = ExperimentSpecLoader.Resolve(ExperimentSpecLoader.Validate(spec, source), Directory.GetCurrentDirectory());
        var outcome = SweepConsole.Run(spec, source, new SweepOptions { SkipCompleted = false, WriteReport = false }, cancel);
        if (outcome is null) return 130;
        SweepConsole.PrintRecords(outcome.Records);
        SweepConsole.Err.MarkupLine($"[grey]{outcome.Records.Count} record(s) written to {Markup.Escape(Path.Combine(outcome.Output, "records"))}[/]");
        return 0;
    }
}
