// MixtralReferenceTests: a tiny random Mixtral (4 experts, top-2) as HF safetensors and as a llama GGUF with merged
// ffn_{gate,up,down}_exps tensors; llama.cpp's logits are the reference, and routing is checked against a plain loop.
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Model.Families;
using Compression.Quantization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Compression.Tests.Model.Families;

public class MixtralReferenceTests(ITestOutputHelper output)
{
    private static readonly LlamaCppOptions Exact = new() { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true };

    private static LlamaConfig Config => FamilyCheckpoints.Tiny("MixtralForCausalLM") with { NumLocalExperts = 4, NumExpertsPerToken = 2 };

    [Fact]
    public void WorkbenchMatchesLlamaCppOnHfAndGgufEncodings()
    {
        var (hf, gguf) = FamilyCheckpoints.Write(Config, "mixtral-ref");
        using (var file = GgufFile.Open(gguf))
        {
            Assert.Equal(4u, file.TryGetUInt32("llama.expert_count"));
            Assert.Equal([64L, 96, 4], file.FindTensor("blk.0.ffn_gate_exps.weight")!.Dimensions.Select(d => (long)d));
            Assert.Equal([96L, 64, 4], file.FindTensor("blk.1.ffn_down_exps.weight")!.Dimensions.Select(d => (long)d));
            Assert.Equal("f32", file.FindTensor("blk.0.ffn_gate_inp.weight")!.Format.Name);
        }
        // The GGUF's per-expert slices are the HF experts, byte for byte.
        using (var a = CheckpointOpener.Open(hf))
        using (var b = CheckpointOpener.Open(gguf))
            foreach (string name in new[] { "model.layers.1.block_sparse_moe.experts.3.w2.weight", "model.layers.0.block_sparse_moe.experts.2.w3.weight" })
                Assert.Equal(a[name].ToFloat32(), b[name].ToFloat32());

        var tokens = FamilyCheckpoints.Tokens(24);
        float[,] reference;
        using (var engine = LlamaCppModel.Load(gguf, Exact)) reference = engine.Logits(tokens);
        foreach (string path in new[] { hf, gguf })
        {
            using var session = ModelSession.Open(path);
            Assert.Same(ModelFamilies.Mixtral, session.Config.Family);
            double full = ReferenceLogits.MaxAbsDiff(reference, session.Model.Logits(tokens));
            double incremental = ReferenceLogits.MaxAbsDiff(reference, FamilyCheckpoints.Incremental(session.Model, tokens, prefill: 7));
            output.WriteLine($"{session.Kind}: |Δlogit| vs llama.cpp full {full:E2}, incremental {incremental:E2} (spread {FamilyCheckpoints.Spread(reference):F2})");
            Assert.True(full < 1e-3, $"{session.Kind} full prefill differs from llama.cpp by {full:E2}");
            Assert.True(incremental < 1e-3, $"{session.Kind} incremental decode differs from llama.cpp by {incremental:E2}");
        }
    }

    /// <summary>The router's choice for each token equals a plain loop over the float weights: softmax, two largest, renormalised.</summary>
    [Fact]
    public void RoutingPicksTheSameExpertsAsAPlainLoop()
    {
        var (hf, _) = FamilyCheckpoints.Write(Config, "mixtral-route");
        using var checkpoint = CheckpointOpener.Open(hf);
        using var session = ModelSession.Open(hf);
        var moe = Assert.IsType<SparseMoe>(session.Model.Layers[1].Mlp);
        var router = checkpoint["model.layers.1.block_sparse_moe.gate.weight"].ToFloat32(); // (4, 64)
        var random = new Random(5);
        int n = 40, h = 64, experts = 4;
        var x = Enumerable.Range(0, n * h).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        using var scope = NewDisposeScope();
        var (chosen, weights) = moe.Route(tensor(x, [n, h]));
        var ids = chosen.data<long>().ToArray();
        var w = weights.data<float>().ToArray();
        for (int t = 0; t < n; t++)
        {
            var logits = new double[experts];
            for (int e = 0; e < experts; e++)
                for (int j = 0; j < h; j++) logits[e] += (double)router[e * h + j] * x[t * h + j];
            double max = logits.Max();
            var p = logits.Select(l => Math.Exp(l - max)).ToArray();
            var order = Enumerable.Range(0, experts).OrderByDescending(e => p[e]).Take(2).ToArray();
            Assert.Equal(order.Select(e => (long)e), ids.Skip(t * 2).Take(2));
            double sum = p[order[0]] + p[order[1]];
            Assert.Equal(p[order[0]] / sum, w[t * 2], 5);
            Assert.Equal(p[order[1]] / sum, w[t * 2 + 1], 5);
        }
        // Every expert gets some tokens here, so the routing is not trivially one expert.
        Assert.Equal(experts, ids.Distinct().Count());
    }

    /// <summary>Experts quantize one by one: a q8_0 GGUF keeps the router f32 and llama.cpp runs it, agreeing with the workbench.</summary>
    [Fact]
    public void QuantizedMixtralGgufRunsInLlamaCpp()
    {
        var (hf, _) = FamilyCheckpoints.Write(Config, "mixtral-q8");
        string path = Path.Combine(Path.GetDirectoryName(hf)!, "model-q8_0.gguf");
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q8_0"));
        using (var input = CheckpointOpener.Open(hf))
            GgufExporter.Write(input, input.LoadTokenizerData(), (spec, name) => policy.Choose(spec, name), path);
        var tokens = FamilyCheckpoints.Tokens(16);
        float[,] ours, theirs;
        using (var session = ModelSession.Open(path, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
        {
            var moe = Assert.IsType<SparseMoe>(session.Model.Layers[0].Mlp);
            Assert.Equal("q8_0", moe.Experts[3].NamedProjections().First().Layer.FormatName);
            Assert.Equal("f32", moe.Router.FormatName);
            ours = session.Model.Logits(tokens);
        }
        using (var engine = LlamaCppModel.Load(path, Exact)) theirs = engine.Logits(tokens);
        double diff = ReferenceLogits.MaxAbsDiff(ours, theirs);
        int agree = Enumerable.Range(0, tokens.Length).Count(i => ReferenceLogits.ArgMax(ours, i) == ReferenceLogits.ArgMax(theirs, i));
        output.WriteLine($"q8_0 Mixtral: workbench vs llama.cpp max |Δlogit| {diff:E2}, top-1 agree {agree}/{tokens.Length}");
        Assert.True(diff < 0.6, $"engines differ by {diff:E2}");
        Assert.True(agree >= tokens.Length * 9 / 10, $"top-1 agrees on {agree}/{tokens.Length}");
    }
}
