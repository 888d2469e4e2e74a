// compress qat: quantization-aware training (optionally distilled from a teacher) to a packed format, ending in a GGUF.
using System.CommandLine;
using Compression.Training;
using Compression.Training.Qat;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class QatCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var format = new Option<string>("--format", "-f") { Description = "Target format (a registered quantized format, e.g. q1_0, q4_0)", Required = true };
        var policy = new Option<string>("--policy") { Description = "pure: every 2-D tensor in the format, embeddings and LM head too (Bonsai); default: block linears only", DefaultValueFactory = _ => "pure" };
        policy.AcceptOnlyFromAmong("pure", "default");
        var teacher = new Option<string?>("--teacher") { Description = "Distil from this model (same tokenizer and shape; usually the float model itself): loss = α·τ²·KL(teacher‖student) + (1−α)·CE" };
        var alpha = new Option<double?>("--alpha") { Description = "Weight of the KL term (default 0.9 with --teacher, 0 without: plain QAT)" };
        var scale = new Option<string>("--scale") { Description = "Block scales: format (the format's own rule, e.g. Q1_0's fp16 mean |w|) or learned (a trainable scale per block, LSQ, initialised to it and written into each block's fp16 scale field)", DefaultValueFactory = _ => ScaleModes.Format };
        scale.AcceptOnlyFromAmong(ScaleModes.Format, ScaleModes.Learned);
        var hiddenWeight = new Option<double>("--hidden-weight") { Description = "β of per-layer hidden-state matching with the teacher: + β·mean over layers of MSE(student, teacher)/mean(teacher²) (0: off)" };
        var tau = new Option<double>("--tau") { Description = "Distillation temperature τ", DefaultValueFactory = _ => 1.0 };
        var steps = new Option<int>("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => 300 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (AdamW)", DefaultValueFactory = _ => 1e-3 };
        var minLr = new Option<double>("--min-lr-ratio") { Description = "Cosine schedule floor, as a fraction of the peak", DefaultValueFactory = _ => 0.1 };
        var warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps", DefaultValueFactory = _ => 20 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step", DefaultValueFactory = _ => 8 };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "Data-order seed", DefaultValueFactory = _ => 1234 };
        var evalInterval = new Option<int>("--eval-interval") { Description = "Validate every N steps (and at step 0: the post-training level)", DefaultValueFactory = _ => 25 };
        var evalBatches = new Option<int>("--eval-batches") { Description = "Validation batches per evaluation", DefaultValueFactory = _ => 4 };
        var ckptInterval = new Option<int>("--checkpoint-interval") { Description = "Checkpoint every N steps (Ctrl-C also saves one; rerunning resumes)", DefaultValueFactory = _ => 50 };
        var threads = new Option<int>("--threads") { Description = "libtorch threads (1 is fastest on a busy 2-core machine)", DefaultValueFactory = _ => 1 };
        var train = new Option<string?>("--train") { Description = $"Training text, documents separated by blank lines (default: the proxy corpus {TrainCommand.ProxyRoot}/corpus/train.txt)" };
        var valid = new Option<string?>("--valid") { Description = "Validation text (default: the proxy corpus valid.txt)" };
        var maxTokens = new Option<int>("--max-train-tokens") { Description = "Use only the first N training tokens (0: all)" };
        var output = new Option<string>("--out", "-o") { Description = "Output folder: checkpoint/, model-FORMAT-POLICY.gguf, qat.json", Required = true };
        var command = new Command("qat", "Quantization-aware training: fine-tune a model through its format's fake quantizer (straight-through), " +
            "optionally distilled from a teacher, and export the trained model as a GGUF of the format (Bonsai-style 1-bit with --format q1_0 --policy pure)")
        {
            model, format, policy, scale, teacher, alpha, hiddenWeight, tau, steps, lr, minLr, warmup, batch, seqLen, seed, evalInterval, evalBatches, ckptInterval, threads,
            train, valid, maxTokens, output,
        };
        command.SetAction((parse, cancel) =>
        {
            string? trainFile = parse.GetValue(train), validFile = parse.GetValue(valid);
            if (trainFile is null || validFile is null) ProxyModel.EnsureData(TrainCommand.ProxyRoot);
            var corpus = new ProxyPaths(TrainCommand.ProxyRoot).Corpus;
            string? teacherPath = parse.GetValue(teacher);
            var options = new QatOptions
            {
                Model = parse.GetValue(model)!,
                Teacher = teacherPath,
                Format = parse.GetValue(format)!,
                Policy = parse.GetValue(policy)!,
                Alpha = parse.GetValue(alpha) ?? (teacherPath is null ? 0 : 0.9),
                Temperature = parse.GetValue(tau),
                Scale = parse.GetValue(scale)!,
                HiddenWeight = parse.GetValue(hiddenWeight),
                TrainFile = trainFile ?? Path.Combine(corpus, "train.txt"),
                ValidFile = validFile ?? Path.Combine(corpus, "valid.txt"),
                MaxTrainTokens = parse.GetValue(maxTokens),
                Steps = parse.GetValue(steps),
                LearningRate = parse.GetValue(lr),
                MinLearningRateRatio = parse.GetValue(minLr),
                WarmupSteps = parse.GetValue(warmup),
                BatchSize = parse.GetValue(batch),
                SequenceLength = parse.GetValue(seqLen),
                Seed = parse.GetValue(seed),
                EvalInterval = parse.GetValue(evalInterval),
                EvalBatches = parse.GetValue(evalBatches),
                CheckpointInterval = parse.GetValue(ckptInterval),
                Threads = parse.GetValue(threads),
            };
            var summary = Run(options, parse.GetValue(output)!, cancel)!;
            string Level(EvalRecord? e) => e is null ? "—" : $"loss {e.Loss:F4} (ppl {e.Perplexity:F3})" + (e.Kl is { } k ? $", KL {k:F4}" : "");
            AnsiConsole.MarkupLine($"{summary.Method} → [bold]{Markup.Escape(summary.Gguf)}[/] ({summary.GgufBytes / 1e6:F2} MB): {summary.Steps} steps, " +
                $"{summary.TokensSeen:N0} tokens, {summary.ElapsedSeconds / 60:F1} min at {summary.TokensPerSecond:N0} tok/s");
            if (options.LearnedScale) AnsiConsole.MarkupLine("  block scales: learned (LSQ), written into each block's fp16 scale field");
            AnsiConsole.MarkupLine($"  validation at step 0 (post-training {Markup.Escape(options.Format)} {options.Policy}): {Level(summary.Ptq)}");
            AnsiConsole.MarkupLine($"  validation at step {summary.Final?.Step}: {Level(summary.Final)}");
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>Runs QAT with a progress bar: loss, KL, tokens/s, and the latest validation.</summary>
    public static QatSummary? Run(QatOptions options, string outDir, CancellationToken cancel)
    {
        QatSummary? result = null;
        bool redirected = Console.IsOutputRedirected;
        AnsiConsole.Progress().AutoClear(false).HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var prep = ctx.AddTask("preparing").IsIndeterminate();
                ProgressTask? bar = null;
                string lastValid = "";
                int lastPrinted = -1;
                result = QatRun.Run(options, outDir, new InlineLog(m => prep.Description = Markup.Escape(m)), p =>
                {
                    if (bar is null)
                    {
                        prep.StopTask();
                        bar = ctx.AddTask("qat", maxValue: p.TotalSteps);
                    }
                    if (p.ValidationLoss is { } v) lastValid = $" val {v:F3} (ppl {Math.Exp(v):F3}" + (p.ValidationKl is { } vk ? $", KL {vk:F4})" : ")");
                    bar.Value = p.Step;
                    string line = $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}" + (p.Kl is { } k ? $" KL {k:F4}" : "") + $" {p.TokensPerSecond:N0} tok/s" + lastValid;
                    bar.Description = Markup.Escape(line);
                    // Piped output (logs, CI) gets one line per validation, since the bar only redraws at the end there.
                    if (redirected && p.ValidationLoss is not null && p.Step != lastPrinted)
                    {
                        lastPrinted = p.Step;
                        Console.Error.WriteLine($"[{p.Elapsed:hh\\:mm\\:ss}] {line}");
                    }
                }, cancel);
                prep.StopTask();
            });
        return result;
    }

    private sealed class InlineLog(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }
}
