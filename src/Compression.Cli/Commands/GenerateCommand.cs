// compress generate: stream a completion of a prompt, then report prefill and decode tokens/s.
using System.CommandLine;
using Compression.Inference;
using Spectre.Console;

namespace Compression.Cli.Commands;

internal static class GenerateCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var device = CliOptions.Device();
        var dtype = CliOptions.DType();
        var prompt = new Option<string>("--prompt", "-p") { Description = "The prompt text", Required = true };
        var maxTokens = new Option<int>("--max-tokens", "-n") { Description = "Tokens to generate", DefaultValueFactory = _ => 64 };
        var temperature = new Option<double>("--temperature") { Description = "0 = greedy (default); > 0 samples", DefaultValueFactory = _ => 0 }
            .Check(t => t >= 0 || !double.IsFinite(t) ? null : "must be ≥ 0 (0 = greedy)"); // non-finite: the shared range check says so
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass (with --temperature > 0)", DefaultValueFactory = _ => 1.0 }
            .Check(p => p is > 0 and <= 1 || !double.IsFinite(p) ? null : "must be in (0, 1]");
        var allowNonFinite = CliOptions.AllowNonFinite();
        var seed = new Option<int>("--seed") { Description = "Sampling seed", DefaultValueFactory = _ => 0 };
        var engine = new Option<string>("--engine") { Description = "torchsharp (the workbench's forward), llama.cpp (a GGUF file) or onnxruntime (an exported ONNX folder); the other engines decode greedily", DefaultValueFactory = _ => "torchsharp" };
        var command = new Command("generate", "Generate text from a prompt (greedy by default), streaming it, then print prefill and decode tokens/s")
        {
            model, device, dtype, prompt, maxTokens, temperature, topP, seed, allowNonFinite, engine,
        };
        command.SetAction((parse, cancel) =>
        {
            var sampling = new SamplingOptions { Temperature = parse.GetValue(temperature), TopP = parse.GetValue(topP), Seed = parse.GetValue(seed) }.Validate();
            string engineName = parse.GetValue(engine)!;
            if (engineName != "torchsharp")
            {
                if (parse.GetValue(temperature) > 0) throw new ArgumentException($"--engine {engineName}: only greedy decoding (--temperature 0) is wired for other engines");
                return Task.FromResult(EngineGeneration.Greedy(engineName, parse.GetValue(model)!, parse.GetValue(prompt)!, parse.GetValue(maxTokens), cancel));
            }
            using var session = CliOptions.Load(parse.GetValue(model)!, parse.GetValue(device)!, parse.GetValue(dtype)!, parse.GetValue(allowNonFinite), decode: true);
            var tokenizer = session.RequireTokenizer();
            var ids = tokenizer.Encode(parse.GetValue(prompt)!);
            var decoder = tokenizer.CreateStreamingDecoder(skipSpecial: true);
            Console.Write(parse.GetValue(prompt));
            var stats = TextGenerator.Generate(session.Model, ids, parse.GetValue(maxTokens),
                sampling,
                id =>
                {
                    if (tokenizer.IsEndOfGeneration(id)) return false;
                    Console.Write(decoder.Append(id));
                    Console.Out.Flush();
                    return true;
                }, cancel);
            Console.WriteLine(decoder.Flush());
            AnsiConsole.MarkupLine($"[grey]prompt {stats.PromptTokens} tokens: prefill {stats.PrefillTokensPerSecond:F1} tok/s · " +
                $"generated {stats.GeneratedTokens} tokens: decode {stats.DecodeTokensPerSecond:F1} tok/s · weights in memory {session.Model.WeightBytes / 1e6:F1} MB[/]");
            return Task.FromResult(0);
        });
        return command;
    }
}
