// compress train: train the built-in proxy Llama (corpus, tokenizer, model), resuming an interrupted run.
using System.CommandLine;
using Compression.Training;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class TrainCommand
{
    /// <summary>Where the proxy and its data live (relative to the working directory, like results/).</summary>
    public const string ProxyRoot = ".cache/proxy";
    /// <summary>Where the retrieval stage of the proxy lives.</summary>
    public const string RetrievalRoot = ".cache/proxy-retrieval";

    public static Command Create()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "What to train: proxy (the built-in ~3.5M-parameter Llama 3.1-architecture model) or proxy-retrieval (the proxy " +
                "continued on whole stories until it retrieves facts from its context; starts from the shipped proxy)",
            DefaultValueFactory = _ => "proxy",
        };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default: the preset's)" };
        var root = new Option<string?>("--dir") { Description = $"Cache folder for corpus, tokenizer, checkpoints and the model (default {ProxyRoot}, or {RetrievalRoot} for proxy-retrieval)" };
        var export = new Option<string?>("--export")
        {
            Description = $"Also write the trained model as a shipped model (files + manifest.json with SHA-256s, recipe, training, machine) into this folder, e.g. {ProxyModel.ShippedDirectory}",
        };
        var command = new Command("train", "Train the built-in proxy model from scratch into --dir (or reuse it there when already trained; the quickstart uses the copy shipped in " +
            $"{ProxyModel.ShippedDirectory}); Ctrl-C saves a checkpoint and the next run resumes")
        {
            preset, steps, root, export,
        };
        command.SetAction((parse, cancel) =>
        {
            string name = parse.GetValue(preset)!;
            if (name is not ("proxy" or "proxy-retrieval")) throw new ArgumentException($"--preset '{name}': the trainable presets are 'proxy' and 'proxy-retrieval'");
            bool retrieval = name == "proxy-retrieval";
            string dirRoot = parse.GetValue(root) ?? (retrieval ? RetrievalRoot : ProxyRoot);
            // The retrieval stage's starting point, found (and the shipped proxy verified) once for training and export.
            string? stage1 = retrieval ? Stage1(cancel) : null;
            string dir = stage1 is not null ? RunRetrieval(dirRoot, stage1, parse.GetValue(steps), cancel) : Run(dirRoot, parse.GetValue(steps), cancel);
            var m = ProxyModel.ReadModelManifest(dir)!;
            AnsiConsole.MarkupLine($"{name} model: [bold]{Markup.Escape(dir)}[/] — {m.Parameters:N0} parameters, {m.Steps} steps, {m.TokensSeen:N0} tokens, " +
                $"validation loss {m.ValidationLoss:F3} (perplexity {m.ValidationPerplexity:F2}, {m.ValidationBitsPerByte:F3} bits/byte; corpus entropy floor ≈ {m.CorpusEntropyBitsPerByte:F2} bits/byte), " +
                $"{m.TrainSeconds / 60:F1} min at {m.TokensPerSecond:N0} tok/s");
            if (parse.GetValue(export) is { } destination)
            {
                var files = stage1 is not null ? RetrievalProxy.Export(dirRoot, stage1, destination) : ProxyModel.Export(dirRoot, destination);
                AnsiConsole.MarkupLine($"shipped model: [bold]{Markup.Escape(destination)}[/] — {files.Count} files, {files.Sum(f => f.Bytes) / 1e6:F2} MB, manifest {ShippedModel.ManifestFileName}");
            }
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Ensures the proxy exists under <paramref name="root"/>, showing the training progress.</summary>
    public static string Run(string root, int? steps, CancellationToken cancel)
    {
        if (ProxyModel.ReadManifest(root) is not null) return ProxyModel.Ensure(root, cancel: cancel); // reuses the model
        return WithProgress("training", (log, progress) => ProxyModel.Ensure(root, log, progress, cancel, steps));
    }

    /// <summary>
    /// Ensures the retrieval proxy exists under <paramref name="root"/>, continuing from the model in <paramref name="stage1"/>,
    /// showing the training progress.
    /// </summary>
    public static string RunRetrieval(string root, string stage1, int? steps, CancellationToken cancel) =>
        WithProgress("retrieval stage", (log, progress) => RetrievalProxy.Ensure(root, stage1, log, progress, cancel, steps));

    /// <summary>The retrieval stage's starting point: the shipped proxy (verified) in the repository, else the one trained under <see cref="ProxyRoot"/>.</summary>
    private static string Stage1(CancellationToken cancel)
    {
        if (!File.Exists(Path.Combine(ProxyModel.ShippedDirectory, ShippedModel.ManifestFileName))) return Run(ProxyRoot, null, cancel);
        ShippedModel.Verify(ProxyModel.ShippedDirectory);
        return ProxyModel.ShippedDirectory;
    }

    private static string WithProgress(string what, Func<IProgress<string>, Action<TrainingProgress>, string> work)
    {
        string? result = null;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var prep = ctx.AddTask("preparing corpus and tokenizer").IsIndeterminate();
                ProgressTask? train = null;
                double? lastValid = null;
                result = work(new InlineLog(m => prep.Description = Markup.Escape(m)), p =>
                {
                    if (train is null)
                    {
                        prep.StopTask();
                        train = ctx.AddTask(what, maxValue: p.TotalSteps);
                    }
                    lastValid = p.ValidationLoss ?? lastValid;
                    train.Value = p.Step;
                    train.Description = $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" +
                        (lastValid is { } v ? $" val {v:F3} (ppl {Math.Exp(v):F2})" : "") + $" {p.TokensPerSecond:N0} tok/s";
                });
                prep.StopTask();
            });
        return result!;
    }

    private sealed class InlineLog(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
