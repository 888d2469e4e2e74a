// compress train: train the built-in proxy Llama (corpus, tokenizer, model), resuming an interrupted run.
using System.CommandLine;
using Compression.Training;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class TrainCommand
{
    /// <summary>Where the proxy and its data live (relative to the working directory, like results/).</summary>
    public const string ProxyRoot = ".cache/proxy";

    public static Command Create()
    {
        var preset = new Option<string>("--preset") { Description = "What to train: proxy (the built-in ~3.5M-parameter Llama 3.1-architecture model)", DefaultValueFactory = _ => "proxy" };
        var steps = new Option<int?>("--steps") { Description = "Training steps (default: the preset's)" };
        var root = new Option<string>("--dir") { Description = "Cache folder for corpus, tokenizer, checkpoints and the model", DefaultValueFactory = _ => ProxyRoot };
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
            if (parse.GetValue(preset) != "proxy") throw new ArgumentException($"--preset '{parse.GetValue(preset)}': the only trainable preset is 'proxy'");
            string dir = Run(parse.GetValue(root)!, parse.GetValue(steps), cancel);
            var m = ProxyModel.ReadManifest(parse.GetValue(root)!)!;
            AnsiConsole.MarkupLine($"proxy model: [bold]{Markup.Escape(dir)}[/] — {m.Parameters:N0} parameters, {m.Steps} steps, {m.TokensSeen:N0} tokens, " +
                $"validation loss {m.ValidationLoss:F3} (perplexity {m.ValidationPerplexity:F2}, {m.ValidationBitsPerByte:F3} bits/byte; corpus entropy floor ≈ {m.CorpusEntropyBitsPerByte:F2} bits/byte), " +
                $"{m.TrainSeconds / 60:F1} min at {m.TokensPerSecond:N0} tok/s");
            if (parse.GetValue(export) is { } destination)
            {
                var files = ProxyModel.Export(parse.GetValue(root)!, destination);
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
        string? result = null;
        AnsiConsole.Progress().AutoClear(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var prep = ctx.AddTask("preparing corpus and tokenizer").IsIndeterminate();
                ProgressTask? train = null;
                double? lastValid = null;
                result = ProxyModel.Ensure(root, new InlineLog(m => prep.Description = Markup.Escape(m)), p =>
                {
                    if (train is null)
                    {
                        prep.StopTask();
                        train = ctx.AddTask("training", maxValue: p.TotalSteps);
                    }
                    lastValid = p.ValidationLoss ?? lastValid;
                    train.Value = p.Step;
                    train.Description = $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" +
                        (lastValid is { } v ? $" val {v:F3} (ppl {Math.Exp(v):F2})" : "") + $" {p.TokensPerSecond:N0} tok/s";
                }, cancel, steps);
                prep.StopTask();
            });
        return result!;
    }

    private sealed class InlineLog(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
