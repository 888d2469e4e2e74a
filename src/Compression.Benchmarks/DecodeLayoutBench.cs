// DecodeLayoutBench: whole-model decode from the file's layout and from the format's decode layout, alternated run by run in one process.
using Compression.Evaluation.Throughput;
using Compression.Inference;
using Compression.Kernels;
using Compression.Quantization;
using MathNet.Numerics.Statistics;

namespace Compression.Benchmarks;

/// <summary>
/// Separate `compress bench` runs of the two layouts land minutes apart, and this VM's CPU and memory speeds move by
/// tens of percent in minutes; so this loads the model once and alternates <see cref="DecodeLayout"/> off and on, run by
/// run (the first two runs warm up and build the layout), through the throughput benchmark's own engine. Prints each
/// run's decode tok/s, the medians, and how much of the process's anonymous memory sits in 2 MiB pages.
/// <c>decode-layout --model 8b-q1_0.gguf [--runs 10] [--prompt 8] [--decode 32]</c>.
/// </summary>
public static class DecodeLayoutBench
{
    public static int Run(string[] args)
    {
        string Option(string name, string fallback)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
        }
        string? model = Option("--model", "") is { Length: > 0 } m ? m : null;
        if (model is null) { Console.Error.WriteLine("error: --model FILE is required"); return 2; }
        if (!int.TryParse(Option("--runs", "10"), out int runs) || runs < 2
            || !int.TryParse(Option("--prompt", "8"), out int promptTokens) || promptTokens < 1
            || !int.TryParse(Option("--decode", "32"), out int decode) || decode < 1)
        {
            Console.Error.WriteLine("error: --runs (≥ 2), --prompt and --decode must be positive integers");
            return 2;
        }
        using var session = ModelSession.Open(model, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var engine = new TorchSharpThroughputEngine(session.Model);
        var prompt = Enumerable.Range(1000, promptTokens).ToArray();
        var results = new Dictionary<bool, List<double>> { [false] = [], [true] = [] };
        for (int i = -2; i < runs; i++)
        {
            bool layout = (i & 1) != 0;
            using var _ = DecodeLayout.Use(layout);
            var (_, tokensPerSecond) = engine.RunOnce(prompt, decode);
            if (i >= 0) results[layout].Add(tokensPerSecond);
            Console.WriteLine($"run {i}{(i < 0 ? " (warm-up)" : "")}: {(layout ? "decode layout" : "file layout  ")} {tokensPerSecond:F2} tok/s");
        }
        double file = results[false].Median(), laid = results[true].Median();
        Console.WriteLine($"median decode tok/s: file layout {file:F2}, decode layout {laid:F2} ({laid / file:F2}x)");
        foreach (var line in File.ReadLines("/proc/self/smaps_rollup"))
            if (line.StartsWith("Anonymous:") || line.StartsWith("AnonHugePages:")) Console.WriteLine(line);
        return 0;
    }
}
