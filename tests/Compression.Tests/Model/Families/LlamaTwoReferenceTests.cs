// LlamaTwoReferenceTests: the Llama 2 shape — multi-head attention (KV heads = heads), no rope scaling, so the GGUF has
// no rope_freqs — against llama.cpp from HF and GGUF, prefill and decode. (Its SentencePiece tokenizer is not tested here.)
using Compression.Checkpoints.Gguf;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model.Families;
using Xunit.Abstractions;

namespace Compression.Tests.Model.Families;

public class LlamaTwoReferenceTests(ITestOutputHelper output)
{
    [Fact]
    public void WorkbenchMatchesLlamaCppOnHfAndGgufEncodings()
    {
        var config = FamilyCheckpoints.Tiny("LlamaForCausalLM") with { NumKeyValueHeadsRaw = 4, RmsNormEps = 1e-5 };
        var (hf, gguf) = FamilyCheckpoints.Write(config, "llama2-ref");
        using (var file = GgufFile.Open(gguf))
        {
            Assert.Equal("llama", file.TryGetString("general.architecture"));
            Assert.Null(file.FindTensor(GgufTensorNames.RopeFrequencies));
        }
        var tokens = FamilyCheckpoints.Tokens(24);
        float[,] reference;
        using (var engine = LlamaCppModel.Load(gguf, new LlamaCppOptions { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true }))
            reference = engine.Logits(tokens);
        foreach (string path in new[] { hf, gguf })
        {
            using var session = ModelSession.Open(path);
            Assert.Same(ModelFamilies.Llama, session.Config.Family);
            double full = ReferenceLogits.MaxAbsDiff(reference, session.Model.Logits(tokens));
            double incremental = ReferenceLogits.MaxAbsDiff(reference, FamilyCheckpoints.Incremental(session.Model, tokens, prefill: 6));
            output.WriteLine($"{session.Kind}: |Δlogit| vs llama.cpp full {full:E2}, incremental {incremental:E2}");
            Assert.True(full < 1e-3, $"{session.Kind} full prefill differs from llama.cpp by {full:E2}");
            Assert.True(incremental < 1e-3, $"{session.Kind} incremental decode differs from llama.cpp by {incremental:E2}");
        }
    }
}
