// SynthRoundTripTests: synth (with tokenizer) → quantize → generate on the workbench, and the same GGUF in llama.cpp;
// a GGUF without a vocabulary passes through quantize as no_vocab and still loads in llama.cpp.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Cli.Commands;
using Compression.Engines.LlamaCpp;
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Training.Corpus;

namespace Compression.Tests.Engines;

public class SynthRoundTripTests
{
    private static LlamaConfig SmallConfig => LlamaConfig.Preset("llama-3.1-8b") with
    {
        HiddenSize = 64, IntermediateSize = 128, NumLayers = 2, NumHeads = 4, NumKeyValueHeadsRaw = 2, HeadDimRaw = 16,
        VocabSize = 1024, MaxPositionEmbeddings = 256,
    };

    [Fact]
    public void SynthQuantizeGenerateAndLlamaCppAgree()
    {
        string dir = TestPaths.NewTempDir("synth-roundtrip");
        string hf = Path.Combine(dir, "hf"), gguf = Path.Combine(dir, "q4_0.gguf");
        var tokenizerData = SyntheticTokenizer.Build(SmallConfig.VocabSize, seed: 1);
        SyntheticCheckpoint.Write(SmallConfig, hf, FormatRegistry.BF16, 5L << 30, seed: 1, tokenizer: tokenizerData);
        Assert.Equal([1014], LlamaConfig.Load(hf).BosTokenIds);

        QuantizeCommand.Run(new QuantizeCommand.Request(hf, "q4_0", gguf), null, default);
        using (var file = GgufFile.Open(gguf))
        {
            Assert.Equal("gpt2", file.TryGetString("tokenizer.ggml.model"));
            Assert.Equal(1024, file.GetStringArray("tokenizer.ggml.tokens").Length);
        }

        using var session = ModelSession.Open(gguf, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });
        var tokenizer = session.RequireTokenizer();
        var prompt = tokenizer.Encode("The fox said that the", addBos: true);
        Assert.Equal(1014, prompt[0]);
        var generated = new List<int>();
        TextGenerator.Generate(session.Model, prompt, 6, new SamplingOptions(), t => { generated.Add(t); return true; });
        Assert.Equal(6, generated.Count);

        // llama.cpp on the same file: at each step the workbench's greedy token is llama.cpp's top token or within
        // the engines' q4_0 disagreement (0.3, LlamaCppAgreementTests) of it.
        var all = prompt.Concat(generated).ToArray();
        using var engine = LlamaCppModel.Load(gguf, new LlamaCppOptions { Threads = 2, ContextSize = 64, BatchSize = 64, ExactAttention = true });
        var theirs = engine.Logits(all);
        for (int step = 0; step < generated.Count; step++)
        {
            int row = prompt.Length - 1 + step;
            float best = Enumerable.Range(0, 1024).Max(j => theirs[row, j]);
            Assert.True(theirs[row, generated[step]] >= best - 0.3f, $"step {step}: token {generated[step]} is {best - theirs[row, generated[step]]:F3} below llama.cpp's best");
        }
    }

    [Fact]
    public void GgufWithoutVocabularyPassesThroughAsNoVocab()
    {
        string dir = TestPaths.NewTempDir("no-vocab");
        string bare = Path.Combine(dir, "bare.gguf"), quantized = Path.Combine(dir, "bare-q8_0.gguf");
        using (var input = GgufCheckpoint.Open(TestPaths.TinyLlamaFile("model-f32.gguf")))
            GgufExporter.Write(input, null, (_, _) => FormatRegistry.F32, bare);
        QuantizeCommand.Run(new QuantizeCommand.Request(bare, "q8_0", quantized), null, default);
        using (var file = GgufFile.Open(quantized))
        {
            Assert.Equal("no_vocab", file.TryGetString("tokenizer.ggml.model"));
            Assert.False(file.TryGetValue("tokenizer.ggml.tokens", out _));
        }
        int[] tokens = [510, 73, 116, 39, 115];
        float[,] ours;
        using (var session = ModelSession.Open(quantized, new ModelSessionOptions { PackedLayers = PackedLoading.Hooks }))
        {
            Assert.Null(session.Tokenizer);
            ours = session.Model.Logits(tokens);
        }
        using var engine = LlamaCppModel.Load(quantized, new LlamaCppOptions { Threads = 2, ContextSize = 16, BatchSize = 16, ExactAttention = true });
        Assert.Equal(512, engine.VocabSize);
        Assert.True(Compression.Tests.Model.ReferenceLogits.MaxAbsDiff(ours, engine.Logits(tokens)) < 0.3);
    }
}
