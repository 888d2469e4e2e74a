// LlamaCppThroughputEngine: llama.cpp timed the same way as the workbench — one prefill batch, then greedy decode.
using System.Diagnostics;
using Compression.Evaluation.Throughput;

namespace Compression.Engines.LlamaCpp;

/// <summary>Times a <see cref="LlamaCppModel"/>; its KV cache is cleared before every run.</summary>
public sealed class LlamaCppThroughputEngine(LlamaCppModel model) : IThroughputEngine
{
    public string Name => LlamaCppRuntime.EngineName;
    public int VocabSize => model.VocabSize;
    public int MaxPositions => model.Options.ContextSize;
    public int Threads => model.Options.Threads;

    /// <summary>Opens <paramref name="ggufPath"/> sized for runs of <paramref name="options"/> (the whole prompt in one batch).</summary>
    public static LlamaCppModel Open(string ggufPath, ThroughputOptions options, int threads) =>
        LlamaCppModel.Load(ggufPath, new LlamaCppOptions
        {
            Threads = threads,
            ContextSize = options.PrefillTokens + options.DecodeTokens,
            BatchSize = Math.Max(1, options.PrefillTokens),
        });

    public (double PrefillTokensPerSecond, double DecodeTokensPerSecond) RunOnce(int[] prompt, int decodeTokens)
    {
        model.Reset();
        var clock = Stopwatch.StartNew();
        int next = model.Prefill(prompt);
        double prefill = prompt.Length / clock.Elapsed.TotalSeconds;
        clock.Restart();
        for (int i = 0; i < decodeTokens; i++) next = model.DecodeOne(next, prompt.Length + i);
        return (prefill, decodeTokens / clock.Elapsed.TotalSeconds);
    }
}
