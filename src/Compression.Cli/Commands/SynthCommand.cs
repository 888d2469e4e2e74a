// compress synth: a random-weight HF checkpoint of any config, sharded like the real releases.
using System.CommandLine;
using Compression.Checkpoints.Safetensors;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;
using Compression.Training.Corpus;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class SynthCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config") { Description = "config.json or a preset name (llama-3.1-8b, llama-3.2-1b, ...)", Required = true };
        var output = new Option<string>("--out", "-o") { Description = "Output checkpoint directory", Required = true };
        var dtype = new Option<string>("--dtype") { Description = "Storage dtype: bf16 (default), f16 or f32", DefaultValueFactory = _ => "bf16" };
        var shard = new Option<string>("--shard-size") { Description = "Largest shard, e.g. 5GB (HF's default), 500MB", DefaultValueFactory = _ => "5GB" }
            .Check(text =>
            {
                try { SyntheticCheckpoint.ParseSize(text); return null; }
                catch (FormatException) { return "expected a positive size such as 5GB, 500MB, 2GiB or 123 (bytes)"; }
            });
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var noTokenizer = new Option<bool>("--no-tokenizer") { Description = "Write no tokenizer.json (by default a byte-level BPE of exactly vocab_size tokens is written, Llama 3's special-token ids at 128,256)" };
        var command = new Command("synth", "Write a random-weight Hugging Face checkpoint of any config, with a tokenizer (for tests, speed and memory at real shapes)")
        {
            config, output, dtype, shard, seed, noTokenizer,
        };
        command.SetAction(parse =>
        {
            string c = parse.GetValue(config)!;
            var cfg = File.Exists(c) || Directory.Exists(c) ? LlamaConfig.Load(c) : LlamaConfig.Preset(c);
            var format = FormatRegistry.Get(parse.GetValue(dtype)!);
            long shardBytes;
            try { shardBytes = SyntheticCheckpoint.ParseSize(parse.GetValue(shard)!); }
            catch (FormatException e) { throw new ArgumentException($"--shard-size: {e.Message}", e); }
            string dir = parse.GetValue(output)!;
            TokenizerData? tokenizer = null;
            if (!parse.GetValue(noTokenizer))
                AnsiConsole.Status().Start($"training a {cfg.VocabSize:N0}-token byte-level BPE on the synthetic corpus", _ =>
                    tokenizer = SyntheticTokenizer.Build(cfg.VocabSize, parse.GetValue(seed)));
            AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask($"synth {LlamaTensorLayout.ParameterCount(cfg):N0} parameters");
                    SyntheticCheckpoint.Write(cfg, dir, format, shardBytes, parse.GetValue(seed),
                        new Progress<(int done, int total, string name)>(p => { task.MaxValue = p.total; task.Value = p.done; }), tokenizer);
                });
            var files = Directory.GetFiles(dir).Order().ToArray();
            AnsiConsole.MarkupLine($"wrote [bold]{Markup.Escape(dir)}[/]: {files.Length} files, {files.Sum(f => new FileInfo(f).Length):N0} bytes ({format.Name}); " +
                (tokenizer is null ? "no tokenizer (use --tokens with logits)"
                    : $"tokenizer: {tokenizer.Tokens.Count:N0} tokens ({tokenizer.Merges.Count:N0} merges), BOS {tokenizer.BosId}, EOS {tokenizer.EosId}"));
            return 0;
        });
        return command;
    }
}
