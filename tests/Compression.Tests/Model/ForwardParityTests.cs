// The forward pass against independent implementations: numpy (float64) and llama.cpp, full and incremental.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using static TorchSharp.torch;

namespace Compression.Tests.Model;

public class ForwardParityTests
{
    private static void AssertClose(float[,] logits, string reference, double tolerance)
    {
        double diff = ReferenceLogits.MaxAbsDiff(logits, ReferenceLogits.Load(reference));
        Assert.True(diff <= tolerance, $"max |Δ| vs {reference} = {diff:G3} > {tolerance:G3}");
    }

    private static LlamaModel LoadGguf(string file)
    {
        using var checkpoint = GgufCheckpoint.Open(TestPaths.TinyLlamaFile(file));
        return ModelLoader.Load(checkpoint);
    }

    [Fact]
    public void Gguf_f32_matches_numpy_and_llama_cpp_full()
    {
        using var model = LoadGguf("model-f32.gguf");
        var logits = model.Logits(ReferenceLogits.PromptTokens);
        AssertClose(logits, "numpy.full", 1e-4);
        AssertClose(logits, "f32.full", 1e-2);
    }

    [Fact]
    public void Safetensors_matches_numpy_and_llama_cpp_full()
    {
        using var checkpoint = Compression.Checkpoints.Safetensors.SafetensorsCheckpoint.Open(TestPaths.TinyLlama);
        using var model = ModelLoader.Load(checkpoint);
        var logits = model.Logits(ReferenceLogits.PromptTokens);
        AssertClose(logits, "numpy.full", 1e-4);
        AssertClose(logits, "f32.full", 1e-2);
    }

    /// <summary>
    /// bf16 activations (and weights rounded to bf16) keep 8 bits of mantissa, so logits move by ~1e-1 on this
    /// random model; the bound checks the dtype path runs end to end and stays near the reference.
    /// </summary>
    [Fact]
    public void Bf16_compute_stays_near_the_f32_reference()
    {
        using var checkpoint = GgufCheckpoint.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));
        using var model = ModelLoader.Load(checkpoint, new ModelLoadOptions { DType = ScalarType.BFloat16 });
        Assert.Equal(ScalarType.BFloat16, model.DType);
        var logits = model.Logits(ReferenceLogits.PromptTokens);
        double diff = ReferenceLogits.MaxAbsDiff(logits, ReferenceLogits.Load("numpy.full"));
        Assert.True(diff is > 1e-4 and < 0.5, $"bf16 max |Δ| = {diff:G3}");
    }

    [Fact]
    public void Gguf_f32_incremental_decode_through_the_kv_cache_matches_llama_cpp()
    {
        using var model = LoadGguf("model-f32.gguf");
        var tokens = ReferenceLogits.PromptTokens;
        int split = ReferenceLogits.IncrementalSplit;
        var rows = new float[tokens.Length, model.Config.VocabSize];
        using var noGrad = no_grad();
        using var cache = model.NewCache(tokens.Length);
        void Run(int from, int count)
        {
            using var scope = NewDisposeScope();
            var ids = tensor(tokens.Skip(from).Take(count).Select(t => (long)t).ToArray(), [1, count]);
            var logits = model.Forward(ids, cache)[0].data<float>().ToArray();
            for (int i = 0; i < count; i++)
                for (int j = 0; j < model.Config.VocabSize; j++) rows[from + i, j] = logits[i * model.Config.VocabSize + j];
        }
        Run(0, split);
        for (int p = split; p < tokens.Length; p++) Run(p, 1);
        Assert.Equal(tokens.Length, cache.Length);
        AssertClose(rows, "numpy.full", 1e-4);
        AssertClose(rows, "f32.incremental", 1e-2);
    }

    [Fact]
    public void Prefill_continuing_a_cached_prefix_equals_the_full_pass()
    {
        using var model = LoadGguf("model-f32.gguf");
        var tokens = ReferenceLogits.PromptTokens;
        using var noGrad = no_grad();
        using var cache = model.NewCache(tokens.Length);
        using var first = model.Forward(tensor(tokens.Take(20).Select(t => (long)t).ToArray(), [1, 20]), cache);
        using var rest = model.Forward(tensor(tokens.Skip(20).Select(t => (long)t).ToArray(), [1, tokens.Length - 20]), cache);
        var numpy = ReferenceLogits.Load("numpy.full");
        var restRows = rest[0].data<float>().ToArray();
        int v = model.Config.VocabSize;
        double max = 0;
        for (int i = 0; i < tokens.Length - 20; i++)
            for (int j = 0; j < v; j++) max = Math.Max(max, Math.Abs(restRows[i * v + j] - numpy[20 + i, j]));
        Assert.True(max <= 1e-4, $"max diff {max}");
    }
}
