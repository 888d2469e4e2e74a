// MistralReferenceTests: a tiny random Mistral with an attention window of 8 over 28-token sequences — the workbench's full
// prefill (band mask) and its rolling-cache decode agree with each other, and with llama.cpp window by window.
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Model.Families;
using Xunit.Abstractions;

namespace Compression.Tests.Model.Families;

public class MistralReferenceTests(ITestOutputHelper output)
{
    private static readonly LlamaCppOptions Exact = new() { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true };
    private const int Window = 8;

    private static LlamaConfig Config => FamilyCheckpoints.Tiny("MistralForCausalLM") with { SlidingWindow = Window };

    [Fact]
    public void RollingCacheDecodeEqualsTheBandMaskedPrefill()
    {
        var (hf, _) = FamilyCheckpoints.Write(Config, "mistral-roll");
        var tokens = FamilyCheckpoints.Tokens(28);
        using var session = ModelSession.Open(hf);
        Assert.Equal(Window, session.Config.AttentionWindow);
        var full = session.Model.Logits(tokens);
        foreach (int prefill in new[] { 3, 8, 13 })
        {
            using (var cache = session.Model.NewCache(tokens.Length)) Assert.Equal(Window, cache.Slots); // memory stops at the window
            double diff = ReferenceLogits.MaxAbsDiff(full, FamilyCheckpoints.Incremental(session.Model, tokens, prefill));
            output.WriteLine($"prefill {prefill}, then rolling decode: |Δ| vs full {diff:E2}");
            Assert.True(diff < 1e-4, $"prefill {prefill}: rolling-cache decode differs from the full forward by {diff:E2}");
        }
        // The window matters: the same weights without it give other logits after position 8.
        using var checkpoint = Compression.Checkpoints.CheckpointOpener.Open(hf);
        using var unwindowed = LlamaModel.Build(checkpoint.Config with { SlidingWindow = null }, TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU,
            (name, _) => ModelLoader.ToTensor(checkpoint[name], TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU));
        var fullAttention = unwindowed.Logits(tokens);
        Assert.True(RowDiff(full, fullAttention, Window - 1) < 1e-4, "positions inside the window must not change");
        Assert.True(RowDiff(full, fullAttention, tokens.Length - 1) > 1e-2, "the window did not change the last position");
    }

    /// <summary>
    /// llama.cpp (815a2a5) does not apply a sliding window to llama-architecture GGUFs, so it cannot check the window on a
    /// deep model directly. With one layer it can: attention scores depend only on relative positions (RoPE), so position
    /// p under a window of w sees exactly what the last token of tokens[p−w+1 … p] sees with full attention. Each such
    /// window is run in llama.cpp from an empty cache; its last logits are the reference for row p, from HF and GGUF.
    /// </summary>
    [Fact]
    public void OneLayerWindowedLogitsEqualLlamaCppOnEachWindow()
    {
        var (hf, gguf) = FamilyCheckpoints.Write(Config with { NumLayers = 1 }, "mistral-ref");
        using (var file = GgufFile.Open(gguf))
        {
            Assert.Equal("llama", file.TryGetString("general.architecture"));
            Assert.Equal((uint)Window, file.TryGetUInt32("llama.attention.sliding_window"));
        }
        var tokens = FamilyCheckpoints.Tokens(28);
        float[,] reference, llamaCppFull;
        using (var engine = LlamaCppModel.Load(gguf, Exact))
        {
            llamaCppFull = engine.Logits(tokens);
            reference = new float[tokens.Length, 512];
            for (int p = 0; p < tokens.Length; p++)
            {
                int first = Math.Max(0, p - Window + 1);
                var logits = engine.Logits(tokens.AsSpan(first, p - first + 1));
                for (int j = 0; j < 512; j++) reference[p, j] = logits[p - first, j];
            }
        }
        foreach (string path in new[] { hf, gguf })
        {
            using var session = ModelSession.Open(path);
            Assert.Same(ModelFamilies.Mistral, session.Config.Family);
            var ours = session.Model.Logits(tokens);
            double full = ReferenceLogits.MaxAbsDiff(reference, ours);
            double incremental = ReferenceLogits.MaxAbsDiff(reference, FamilyCheckpoints.Incremental(session.Model, tokens, prefill: 5));
            output.WriteLine($"{session.Kind}: |Δlogit| vs llama.cpp per window: full {full:E2}, incremental {incremental:E2}; " +
                             $"vs llama.cpp on the whole sequence (no window) at the last row {RowDiff(ours, llamaCppFull, tokens.Length - 1):E2}");
            Assert.True(full < 1e-3, $"{session.Kind} full prefill differs from llama.cpp by {full:E2}");
            Assert.True(incremental < 1e-3, $"{session.Kind} incremental decode differs from llama.cpp by {incremental:E2}");
            Assert.True(RowDiff(ours, llamaCppFull, tokens.Length - 1) > 1e-2, "the window should change the last position");
        }
    }

    /// <summary>What llama.cpp does with the window key today: nothing — on a deep model it equals full attention.</summary>
    [Fact]
    public void LlamaCppRunsTheLlamaArchitectureWithoutTheWindow()
    {
        var (hf, gguf) = FamilyCheckpoints.Write(Config, "mistral-full");
        var tokens = FamilyCheckpoints.Tokens(28);
        float[,] theirs;
        using (var engine = LlamaCppModel.Load(gguf, Exact)) theirs = engine.Logits(tokens);
        using var checkpoint = Compression.Checkpoints.CheckpointOpener.Open(hf);
        using var unwindowed = LlamaModel.Build(checkpoint.Config with { SlidingWindow = null }, TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU,
            (name, _) => ModelLoader.ToTensor(checkpoint[name], TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU));
        double diff = ReferenceLogits.MaxAbsDiff(theirs, unwindowed.Logits(tokens));
        output.WriteLine($"llama.cpp vs the workbench without a window: {diff:E2}");
        Assert.True(diff < 1e-3, $"llama.cpp now differs from full attention by {diff:E2}: it may apply the window (then compare it directly)");
    }

    private static double RowDiff(float[,] a, float[,] b, int row)
    {
        double max = 0;
        for (int j = 0; j < a.GetLength(1); j++) max = Math.Max(max, Math.Abs(a[row, j] - b[row, j]));
        return max;
    }
}
