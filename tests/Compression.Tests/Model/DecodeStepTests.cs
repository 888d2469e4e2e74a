// DecodeStepTests: the one-token decode path on raw buffers against numpy's float64 forward and against the libtorch path.
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using static TorchSharp.torch;

namespace Compression.Tests.Model;

[Collection(nameof(DecodeStepTests))] // flips the process-wide DecodeStep.Enabled
public class DecodeStepTests
{
    /// <summary>The prompt prefilled up to the reference's split, then one token at a time through the cache: (T, V) logits.</summary>
    private static float[,] Incremental(LlamaModel model, bool fused, int capacity = 0)
    {
        var tokens = ReferenceLogits.PromptTokens;
        int split = ReferenceLogits.IncrementalSplit, vocab = model.Config.VocabSize;
        var rows = new float[tokens.Length, vocab];
        using var noGrad = no_grad();
        using var cache = model.NewCache(capacity > 0 ? capacity : tokens.Length);
        bool was = DecodeStep.Enabled;
        DecodeStep.Enabled = fused;
        try
        {
            void Run(int from, int count)
            {
                using var scope = NewDisposeScope();
                var ids = tensor(tokens.Skip(from).Take(count).Select(t => (long)t).ToArray(), [1, count]);
                var logits = model.Forward(ids, cache)[0].data<float>().ToArray();
                for (int i = 0; i < count; i++)
                    for (int j = 0; j < vocab; j++) rows[from + i, j] = logits[i * vocab + j];
            }
            Run(0, split);
            for (int p = split; p < tokens.Length; p++) Run(p, 1);
        }
        finally { DecodeStep.Enabled = was; }
        Assert.Equal(tokens.Length, cache.Length);
        return rows;
    }

    private static ModelSession Open(string file) =>
        ModelSession.Open(TestPaths.TinyLlamaFile(file), new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });

    /// <summary>The f32 GGUF: decoded token by token on the raw path, every logit within 1e-4 of
    /// numpy's float64 forward (the libtorch path's own bound in <see cref="ForwardParityTests"/>).</summary>
    [Fact]
    public void Fused_decode_of_the_f32_model_matches_numpy()
    {
        using var session = Open("model-f32.gguf");
        Assert.True(session.Model.HasDecodeStep); // float32 layers load dense and run through the f32 GEMV
        var rows = Incremental(session.Model, fused: true, capacity: 200);
        double diff = ReferenceLogits.MaxAbsDiff(rows, ReferenceLogits.Load("numpy.full"));
        Assert.True(diff <= 1e-4, $"max |Δ| vs numpy = {diff:G3}");
    }

    /// <summary>Every fixture format: the raw path and the libtorch path give the same logits up to float rounding
    /// (1e-4 absolute on logits of magnitude ~10), so the two differ only in the order of sums.</summary>
    [Theory]
    [InlineData("model-f32.gguf")]
    [InlineData("model-q8_0.gguf")]
    [InlineData("model-q4_0.gguf")]
    [InlineData("model-q1_0.gguf")]
    public void Fused_and_libtorch_decode_agree(string file)
    {
        using var session = Open(file);
        Assert.True(session.Model.HasDecodeStep);
        var fused = Incremental(session.Model, fused: true);
        var torchPath = Incremental(session.Model, fused: false);
        double diff = ReferenceLogits.MaxAbsDiff(fused, torchPath);
        Assert.True(diff <= 1e-4, $"{file}: max |Δ| fused vs libtorch = {diff:G3}");
        // And they are not the same computation by accident: the prefix rows (prefilled, not decoded) are identical.
        for (int j = 0; j < session.Model.Config.VocabSize; j++) Assert.Equal(torchPath[0, j], fused[0, j]);
    }

    /// <summary>Attention split over the cores by KV head (forced from the first position) gives the bits of the
    /// one-thread loop: each head's arithmetic is the same wherever it runs.</summary>
    [Fact]
    public void Attention_over_the_cores_equals_the_one_thread_loop()
    {
        using var session = Open("model-q4_0.gguf");
        Assert.True(session.Model.Config.NumKeyValueHeads >= 2);
        int was = DecodeStep.ParallelAttentionFrom;
        try
        {
            DecodeStep.ParallelAttentionFrom = 0;
            var split = Incremental(session.Model, fused: true);
            DecodeStep.ParallelAttentionFrom = int.MaxValue;
            var serial = Incremental(session.Model, fused: true);
            for (int i = 0; i < split.GetLength(0); i++)
                for (int j = 0; j < split.GetLength(1); j++) Assert.Equal(serial[i, j], split[i, j]);
        }
        finally { DecodeStep.ParallelAttentionFrom = was; }
    }

    [Fact]
    public void Environment_values_parse_and_bad_ones_are_named()
    {
        Assert.True(DecodeStep.Parse(null));
        Assert.True(DecodeStep.Parse("fused"));
        Assert.False(DecodeStep.Parse(" Torch "));
        Assert.Contains("COMPRESS_DECODE=bogus", Assert.Throws<ArgumentException>(() => DecodeStep.Parse("bogus")).Message);
    }
}
