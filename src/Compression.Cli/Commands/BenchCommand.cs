// compress bench: prefill and decode throughput and peak memory of a model, as loaded or quantized in memory.
using System.CommandLine;
using Compression.Experiments;

namespace Compression.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var model = CliOptions.Model();
        var quantize = new Option<string?>("--quantize", "-q") { Description = "Quantize the model in memory to this format first" };
        var policy = new Option<string>("--policy") { Description = "Which tensors --quantize touches: default, pure or llama.cpp", DefaultValueFactory = _ => "default" };
        var prefill = new Option<int>("--prefill") { Description = "Prompt tokens prefilled in one batch", DefaultValueFactory = _ => 512 };
        var decode = new Option<int>("--decode") { Description = "Tokens decoded one at a time", DefaultValueFactory = _ => 128 };
        var repetitions = new Option<int>("--repetitions") { Description = "Measured runs (median and spread reported)", DefaultValueFactory = _ => 3 };
        var warmup = new Option<int>("--warmup") { Description = "Unmeasured warm-up runs", DefaultValueFactory = _ => 1 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random prompt tokens", DefaultValueFactory = _ => 1234 };
        var results = new Option<string>("--results") { Description = "Results folder", DefaultValueFactory = _ => "results" };
        var command = new Command("bench", "Measure prefill and decode tokens/s and peak memory of a model (as loaded, or quantized in memory)")
        {
            model, quantize, policy, prefill, decode, repetitions, warmup, seed, results,
        };
        command.SetAction((parse, cancel) =>
        {
            string? format = parse.GetValue(quantize);
            var spec = new ExperimentSpec
            {
                Name = "compress bench",
                Model = new ModelSource { Path = parse.GetValue(model) },
                Formats = format is null ? null : [format],
                Policies = [parse.GetValue(policy)!],
                Baseline = format is null,
                Tasks = new TaskSpecs
                {
                    Throughput = new ThroughputSpec
                    {
                        Prefill = parse.GetValue(prefill), Decode = parse.GetValue(decode),
                        Repetitions = parse.GetValue(repetitions), Warmup = parse.GetValue(warmup),
                    },
                },
                Seeds = [parse.GetValue(seed)],
                Output = parse.GetValue(results),
            };
            return Task.FromResult(EvalCommand.Run(spec, "compress bench", cancel));
        });
        return command;
    }
}
