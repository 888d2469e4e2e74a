// TextGenerator: prefill a prompt, then decode one token at a time through the KV cache, timing both phases.
using System.Diagnostics;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Inference;

/// <summary>Timings of one generation: prefill and decode tokens per second.</summary>
public sealed record GenerationStats(int PromptTokens, double PrefillSeconds, int GeneratedTokens, double DecodeSeconds)
{
    public double PrefillTokensPerSecond => PromptTokens / Math.Max(PrefillSeconds, 1e-9);
    /// <summary>Decode speed over the tokens produced after the first (the first comes from the prefill logits).</summary>
    public double DecodeTokensPerSecond => GeneratedTokens <= 1 ? 0 : (GeneratedTokens - 1) / Math.Max(DecodeSeconds, 1e-9);
}

public static class TextGenerator
{
    /// <summary>
    /// Generates up to <paramref name="maxTokens"/> tokens after <paramref name="prompt"/>. <paramref name="onToken"/>
    /// receives each new token and returns false to stop (e.g. at end of text). Memory stays flat: each
    /// step runs in its own dispose scope and only the KV cache persists.
    /// </summary>
    public static GenerationStats Generate(LlamaModel model, IReadOnlyList<int> prompt, int maxTokens, SamplingOptions sampling,
        Func<int, bool> onToken, CancellationToken cancel = default)
    {
        if (prompt.Count == 0) throw new ArgumentException("the prompt has no tokens");
        if (maxTokens < 0) throw new ArgumentException($"--max-tokens {maxTokens}: must be ≥ 0");
        int capacity = (int)Math.Min(model.Config.MaxPositionEmbeddings, (long)prompt.Count + maxTokens); // no int overflow for huge -n
        if (prompt.Count >= capacity && maxTokens > 0)
            throw new ArgumentException($"prompt of {prompt.Count} tokens leaves no room within max_position_embeddings {model.Config.MaxPositionEmbeddings}");
        using var noGrad = no_grad();
        // The prompt is prefilled as llama.cpp does (Q8 activations where the format's prefill kernel takes them), like every decode step.
        using var arithmetic = Kernels.PrefillActivations.Use(Kernels.PrefillActivations.Mode.Q8);
        using var cache = model.NewCache(capacity);
        var sampler = new Sampler(sampling);
        var logits = new float[model.Config.VocabSize];

        var clock = Stopwatch.StartNew();
        Step(model, cache, prompt.ToArray(), logits);
        double prefill = clock.Elapsed.TotalSeconds;

        clock.Restart();
        int generated = 0;
        while (generated < maxTokens && !cancel.IsCancellationRequested)
        {
            int next = sampler.Next(logits);
            generated++;
            if (!onToken(next) || generated == maxTokens || cache.Length >= capacity) break;
            Step(model, cache, [next], logits);
        }
        return new GenerationStats(prompt.Count, prefill, generated, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Runs tokens through the model and copies the last position's logits into <paramref name="last"/> — the LM head
    /// runs on that position only.
    /// </summary>
    private static void Step(LlamaModel model, KvCache cache, int[] tokens, float[] last)
    {
        using var scope = NewDisposeScope();
        var hidden = model.Hidden(LlamaModel.TokenIds(tokens), cache)[0];                          // (T, H)
        var logits = model.Head(hidden.narrow(0, tokens.Length - 1, 1))[0].cpu();                 // (V)
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(logits.contiguous().bytes).CopyTo(last);
    }
}
