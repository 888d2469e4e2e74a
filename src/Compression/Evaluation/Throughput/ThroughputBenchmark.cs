// ThroughputBenchmark: prefill and decode tokens/s of an engine, with warm-up, repetitions, median and spread,
// and the memory the process held while it ran.
using Compression.Evaluation.Metrics;
using Compression.Model;

namespace Compression.Evaluation.Throughput;

/// <summary>Settings of a throughput run.</summary>
public sealed record ThroughputOptions
{
    /// <summary>Prompt tokens prefilled in one batch.</summary>
    public int PrefillTokens { get; init; } = 512;
    /// <summary>Tokens decoded one at a time after the prefill.</summary>
    public int DecodeTokens { get; init; } = 128;
    public int WarmupRuns { get; init; } = 1;
    public int Repetitions { get; init; } = 3;
    public int Seed { get; init; } = 1234;
    /// <summary>This machine's read bandwidth (bytes/s), when measured: records then carry the decode roofline.</summary>
    public double? ReadBandwidthBytesPerSecond { get; init; }
}

/// <summary>
/// Median and spread over repetitions; memory: the process's lifetime peak resident set (VmHWM) and the peaks of the
/// resident set and of anonymous memory sampled during the runs (bytes).
/// </summary>
public sealed record ThroughputResult(
    ThroughputOptions Options,
    double PrefillTokensPerSecond, double PrefillMin, double PrefillMax,
    double DecodeTokensPerSecond, double DecodeMin, double DecodeMax,
    double DecodeMsPerToken, long PeakResidentBytes, IReadOnlyList<(double Prefill, double Decode)> Runs)
{
    public const string Version = "2";

    /// <summary>Engine measured ("torchsharp", "llama.cpp").</summary>
    public string Engine { get; init; } = TorchSharpThroughputEngine.EngineName;
    public int Threads { get; init; }
    /// <summary>Peak resident set sampled during the runs (the engine's share of <see cref="PeakResidentBytes"/>).</summary>
    public long RunPeakResidentBytes { get; init; }
    /// <summary>Peak anonymous resident memory sampled during the runs: allocations, not mapped weight files.</summary>
    public long RunPeakAnonymousBytes { get; init; }
}

public static class ThroughputBenchmark
{
    /// <summary>The workbench's own forward pass (<see cref="TorchSharpThroughputEngine"/>).</summary>
    public static ThroughputResult Run(LlamaModel model, ThroughputOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancel = default) => Run(new TorchSharpThroughputEngine(model), options, progress, cancel);

    /// <summary>
    /// Prefills <see cref="ThroughputOptions.PrefillTokens"/> random tokens, then decodes
    /// <see cref="ThroughputOptions.DecodeTokens"/> greedily through the KV cache; repeats and reports medians.
    /// Token ids are random (seeded, the same for every engine): speed does not depend on the text.
    /// </summary>
    public static ThroughputResult Run(IThroughputEngine engine, ThroughputOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancel = default)
    {
        int capacity = options.PrefillTokens + options.DecodeTokens;
        if (capacity > engine.MaxPositions)
            throw new ArgumentException($"prefill + decode = {capacity} tokens exceeds the {engine.Name} model's {engine.MaxPositions} positions");
        var prompt = Prompt(options.Seed, options.PrefillTokens, engine.VocabSize);
        var runs = new List<(double, double)>();
        int total = options.WarmupRuns + options.Repetitions;
        using var sampler = new MemorySampler();
        for (int run = 0; run < total; run++)
        {
            cancel.ThrowIfCancellationRequested();
            var (prefill, decode) = engine.RunOnce(prompt, options.DecodeTokens);
            if (run >= options.WarmupRuns) runs.Add((prefill, decode));
            progress?.Report(new EvaluationProgress(run + 1, total, "runs"));
        }
        sampler.Dispose();
        var p = runs.Select(r => r.Item1).Order().ToArray();
        var d = runs.Select(r => r.Item2).Order().ToArray();
        double pMed = DistributionSummary.Percentile(p, 0.5), dMed = DistributionSummary.Percentile(d, 0.5);
        return new ThroughputResult(options, pMed, p[0], p[^1], dMed, d[0], d[^1], 1000.0 / dMed, PeakResidentBytes(), runs)
        {
            Engine = engine.Name,
            Threads = engine.Threads,
            RunPeakResidentBytes = sampler.PeakResidentBytes,
            RunPeakAnonymousBytes = sampler.PeakAnonymousBytes,
        };
    }

    /// <summary>The seeded random prompt every engine gets for the same seed, length and vocabulary.</summary>
    public static int[] Prompt(int seed, int length, int vocab)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray();
    }

    /// <summary>Peak resident set size of this process (VmHWM), or the working set where /proc is unavailable.</summary>
    public static long PeakResidentBytes() => ProcessMemory.Current().PeakResidentBytes;
}
