// Qwen3ReferenceTests: a tiny random Qwen3 (q/k norms, head_dim decoupled from hidden/heads) written as HF safetensors
// and as a qwen3 GGUF; mainline llama.cpp's logits on the GGUF are the reference for the workbench's forward from both
// encodings — full prefill and incremental decode — and for a Q8_0/Q1_0 GGUF the workbench quantized.
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Model.Families;
using Compression.Quantization;
using Xunit.Abstractions;

namespace Compression.Tests.Model.Families;

public class Qwen3ReferenceTests(ITestOutputHelper output)
{
    private static readonly LlamaCppOptions Exact = new() { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true };

    /// <summary>Untied like Qwen3 8B, tied like Qwen3 0.6B–4B (the GGUF then has no output.weight; llama.cpp reuses token_embd).</summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WorkbenchMatchesLlamaCppOnHfAndGgufEncodings(bool tied)
    {
        var (hf, gguf) = FamilyCheckpoints.Write(FamilyCheckpoints.Qwen3 with { TieWordEmbeddings = tied }, "qwen3-ref");
        using (var file = GgufFile.Open(gguf))
        {
            Assert.Equal(tied, file.FindTensor("output.weight") is null);
            Assert.Equal("qwen3", file.TryGetString("general.architecture"));
            Assert.Equal(32u, file.TryGetUInt32("qwen3.attention.key_length"));
            Assert.NotNull(file.FindTensor("blk.0.attn_q_norm.weight"));
            Assert.NotNull(file.FindTensor("blk.1.attn_k_norm.weight"));
        }
        var tokens = FamilyCheckpoints.Tokens(24);
        float[,] reference;
        using (var engine = LlamaCppModel.Load(gguf, Exact)) reference = engine.Logits(tokens);
        double spread = FamilyCheckpoints.Spread(reference);
        Assert.True(spread > 0.5, $"logits spread {spread:F3}: too flat for a 1e-3 comparison to mean anything");

        foreach (string path in new[] { hf, gguf })
        {
            using var session = ModelSession.Open(path);
            Assert.Same(ModelFamilies.Qwen3, session.Config.Family);
            Assert.Equal(tied, session.Config.TieWordEmbeddings);
            double full = ReferenceLogits.MaxAbsDiff(reference, session.Model.Logits(tokens));
            double incremental = ReferenceLogits.MaxAbsDiff(reference, FamilyCheckpoints.Incremental(session.Model, tokens, prefill: 9));
            output.WriteLine($"{(tied ? "tied" : "untied")} {session.Kind}: |Δlogit| vs llama.cpp full {full:E2}, incremental {incremental:E2} (logit spread {spread:F2})");
            Assert.True(full < 1e-3, $"{session.Kind} full prefill differs from llama.cpp by {full:E2}");
            Assert.True(incremental < 1e-3, $"{session.Kind} incremental decode differs from llama.cpp by {incremental:E2}");
        }
    }

    /// <summary>Without q_norm/k_norm (the same weights read as Llama) the logits are far from llama.cpp's: the norms matter here.</summary>
    [Fact]
    public void DroppingTheQueryKeyNormsChangesTheLogits()
    {
        var (hf, gguf) = FamilyCheckpoints.Write(FamilyCheckpoints.Qwen3, "qwen3-nonorm");
        var tokens = FamilyCheckpoints.Tokens(16);
        float[,] reference;
        using (var engine = LlamaCppModel.Load(gguf, Exact)) reference = engine.Logits(tokens);
        using var checkpoint = Compression.Checkpoints.CheckpointOpener.Open(hf);
        var llamaConfig = checkpoint.Config with { Architectures = ["LlamaForCausalLM"], ModelType = "llama" };
        using var model = LlamaModel.Build(llamaConfig, TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU,
            (name, _) => ModelLoader.ToTensor(checkpoint[name], TorchSharp.torch.ScalarType.Float32, TorchSharp.torch.CPU));
        double diff = ReferenceLogits.MaxAbsDiff(reference, model.Logits(tokens));
        output.WriteLine($"without q/k norms: {diff:E2}");
        Assert.True(diff > 0.05, $"dropping q_norm/k_norm moved logits by only {diff:E2}");
    }

    /// <summary>
    /// The workbench quantizes the HF checkpoint to a qwen3 GGUF; llama.cpp loads it and agrees with the workbench on it.
    /// Both engines quantize activations to 8-bit blocks on the fly, one rounding apart now and then, so they do not agree
    /// to 1e-3; what shows they read the same weights is that their mean disagreement is <paramref name="separation"/>
    /// times below llama.cpp's own distance from the float model (as in LlamaCppAgreementTests).
    /// </summary>
    [Theory]
    [InlineData("q8_0", 0.6, 1)]
    [InlineData("q1_0", 0.6, 10)]
    public void QuantizedQwen3GgufRunsInLlamaCpp(string formatName, double bound, double separation)
    {
        var (hf, f32) = FamilyCheckpoints.Write(FamilyCheckpoints.Qwen3 with { HiddenSize = 128, IntermediateSize = 256 }, "qwen3-quant");
        string path = Path.Combine(Path.GetDirectoryName(hf)!, $"model-{formatName}.gguf");
        var policy = QuantizationPolicy.PureOf(FormatRegistry.Get(formatName));
        using (var input = Compression.Checkpoints.Safetensors.SafetensorsCheckpoint.Open(hf))
            GgufExporter.Write(input, input.LoadTokenizerData(), (spec, name) => policy.Choose(spec, name), path);
        var tokens = FamilyCheckpoints.Tokens(20);
        float[,] ours, theirs, reference;
        using (var session = ModelSession.Open(path, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
        {
            Assert.Equal(formatName, session.Model.Layers[0].Attention.NamedProjections().First().Layer.FormatName);
            ours = session.Model.Logits(tokens);
        }
        using (var engine = LlamaCppModel.Load(path, Exact)) theirs = engine.Logits(tokens);
        using (var engine = LlamaCppModel.Load(f32, Exact)) reference = engine.Logits(tokens);
        double diff = ReferenceLogits.MaxAbsDiff(ours, theirs), meanDiff = MeanAbsDiff(ours, theirs), gap = MeanAbsDiff(reference, theirs);
        int agree = Enumerable.Range(0, tokens.Length).Count(i => ReferenceLogits.ArgMax(ours, i) == ReferenceLogits.ArgMax(theirs, i));
        output.WriteLine($"{formatName}: workbench vs llama.cpp max |Δlogit| {diff:E2} mean {meanDiff:E2}; llama.cpp vs its f32 mean {gap:E2}; " +
                         $"top-1 agree {agree}/{tokens.Length}, spread {FamilyCheckpoints.Spread(theirs):F2}");
        Assert.True(diff < bound, $"{formatName}: engines differ by {diff:E2}");
        Assert.True(meanDiff * separation <= gap, $"{formatName}: engines differ by {meanDiff:E2} on average, not {separation}× below the quantization gap {gap:E2}");
        Assert.True(agree >= tokens.Length * 9 / 10, $"{formatName}: top-1 agrees on {agree}/{tokens.Length}");
    }

    private static double MeanAbsDiff(float[,] a, float[,] b)
    {
        double sum = 0;
        for (int i = 0; i < a.GetLength(0); i++)
            for (int j = 0; j < a.GetLength(1); j++) sum += Math.Abs(a[i, j] - b[i, j]);
        return sum / a.Length;
    }
}
