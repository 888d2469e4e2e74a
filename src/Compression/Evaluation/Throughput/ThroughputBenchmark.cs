// ThroughputBenchmark: prefill and decode tokens/s of a model, with warm-up, repetitions, median and spread,
// and peak resident memory.
using System.Diagnostics;
using Compression.Evaluation.Metrics;
using Compression.Model;
using static TorchSharp.torch;

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
}

/// <summary>Median and spread over repetitions; peak resident memory of the process.</summary>
public sealed record ThroughputResult(
    ThroughputOptions Options,
    double PrefillTokensPerSecond, double PrefillMin, double PrefillMax,
    double DecodeTokensPerSecond, double DecodeMin, double DecodeMax,
    double DecodeMsPerToken, long PeakResidentBytes, IReadOnlyList<(double Prefill, double Decode)> Runs)
{
    public const string Version = "1";
}

public static class ThroughputBenchmark
{
    /// <summary>
    /// Prefills <see cref="ThroughputOptions.PrefillTokens"/> random tokens, then decodes
    /// <see cref="ThroughputOptions.DecodeTokens"/> greedily through the KV cache; repeats and reports medians.
    /// Token ids are random (seeded): speed does not depend on the text.
    /// </summary>
    public static ThroughputResult Run(LlamaModel model, ThroughputOptions options, IProgress<EvaluationProgress>? progress = null,
        CancellationToken cancel = default)
    {
        int capacity = options.PrefillTokens + options.DecodeTokens;
        if (capacity > model.Config.MaxPositionEmbeddings)
            throw new ArgumentException($"prefill + decode = {capacity} tokens exceeds max_position_embeddings {model.Config.MaxPositionEmbeddings}");
        var random = new Random(options.Seed);
        var prompt = Enumerable.Range(0, options.PrefillTokens).Select(_ => (long)random.Next(model.Config.VocabSize)).ToArray();
        var runs = new List<(double, double)>();
        int total = options.WarmupRuns + options.Repetitions;
        using var noGrad = no_grad();
        for (int run = 0; run < total; run++)
        {
            cancel.ThrowIfCancellationRequested();
            var (prefill, decode) = Once(model, prompt, options.DecodeTokens, capacity);
            if (run >= options.WarmupRuns) runs.Add((prefill, decode));
            progress?.Report(new EvaluationProgress(run + 1, total, "runs"));
        }
        var p = runs.Select(r => r.Item1).Order().ToArray();
        var d = runs.Select(r => r.Item2).Order().ToArray();
        double pMed = DistributionSummary.Percentile(p, 0.5), dMed = DistributionSummary.Percentile(d, 0.5);
        return new ThroughputResult(options, pMed, p[0], p[^1], dMed, d[0], d[^1], 1000.0 / dMed, PeakResidentBytes(), runs);
    }

    private static (double Prefill, double Decode) Once(LlamaModel model, long[] prompt, int decodeTokens, int capacity)
    {
        using var cache = model.NewCache(capacity);
        var clock = Stopwatch.StartNew();
        long next;
        using (var scope = NewDisposeScope())
        {
            var logits = model.Forward(tensor(prompt, [1, prompt.Length]), cache);
            next = logits[0, -1].argmax().item<long>();
        }
        double prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < decodeTokens; i++)
        {
            using var scope = NewDisposeScope();
            var logits = model.Forward(tensor(new[] { next }, [1, 1]), cache);
            next = logits[0, -1].argmax().item<long>();
        }
        double decode = decodeTokens / clock.Elapsed.TotalSeconds;
        return (prefill, decode);
    }

    /// <summary>Peak resident set size of this process (VmHWM), or 0 where /proc is unavailable.</summary>
    public static long PeakResidentBytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return Environment.WorkingSet;
    }
}
