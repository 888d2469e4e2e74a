// FamilyCheckpoints: tiny random checkpoints of each family — the HF safetensors directory (synth) and its GGUF twin
// (the project's exporter), with the synthetic Llama 3 BPE tokenizer — shared by the family reference tests.
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Model;
using Compression.Quantization;
using Compression.Training.Corpus;

namespace Compression.Tests.Model.Families;

internal static class FamilyCheckpoints
{
    /// <summary>Weights of std 0.3 (not HF's 0.02), so logits spread over several units and 1e-3 is a tight bound.</summary>
    public const float Std = 0.3f;

    /// <summary>The tiny shape every family shares: 2 layers, 4 heads over 2 KV heads, vocabulary 512.</summary>
    public static LlamaConfig Tiny(string architecture) => new()
    {
        Architectures = [architecture], HiddenSize = 64, IntermediateSize = 96, NumLayers = 2, NumHeads = 4, NumKeyValueHeadsRaw = 2,
        VocabSize = 512, MaxPositionEmbeddings = 256, RmsNormEps = 1e-6, RopeTheta = 10000,
    };

    /// <summary>Qwen3: head_dim 32, so the query width (128) differs from hidden (64) — decoupled as in Qwen3.</summary>
    public static LlamaConfig Qwen3 => Tiny("Qwen3ForCausalLM") with { HeadDimRaw = 32, RopeTheta = 1_000_000 };

    /// <summary>Writes the HF directory and the F32 GGUF of <paramref name="config"/>; returns both paths.</summary>
    public static (string Hf, string Gguf) Write(LlamaConfig config, string tag, int seed = 7)
    {
        string dir = TestPaths.NewTempDir(tag);
        string hf = Path.Combine(dir, "hf"), gguf = Path.Combine(dir, "model-f32.gguf");
        var tokenizer = SyntheticTokenizer.Build(config.VocabSize, seed: 1);
        SyntheticCheckpoint.Write(config, hf, FormatRegistry.F32, 5L << 30, seed, tokenizer: tokenizer, std: Std);
        using (var input = SafetensorsCheckpoint.Open(hf))
            GgufExporter.Write(input, input.LoadTokenizerData(), (_, _) => FormatRegistry.F32, gguf);
        return (hf, gguf);
    }

    /// <summary>Token ids spread over the vocabulary (none special: the synthetic tokenizer keeps its specials at the top).</summary>
    public static int[] Tokens(int count, int seed = 3)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => random.Next(0, 400)).ToArray();
    }

    /// <summary>Logits of <paramref name="tokens"/> decoded through a KV cache: a prefill of <paramref name="prefill"/>, then one token at a time.</summary>
    public static float[,] Incremental(LlamaModel model, int[] tokens, int prefill)
    {
        using var cache = model.NewCache(tokens.Length);
        var result = new float[tokens.Length, model.Config.VocabSize];
        using var noGrad = TorchSharp.torch.no_grad();
        void Run(int start, int count)
        {
            using var scope = TorchSharp.torch.NewDisposeScope();
            var logits = model.Forward(LlamaModel.TokenIds(tokens.AsSpan(start, count)), cache)[0].cpu().contiguous(); // (count, V)
            var values = logits.data<float>().ToArray();
            for (int i = 0; i < count; i++)
                for (int j = 0; j < result.GetLength(1); j++) result[start + i, j] = values[i * result.GetLength(1) + j];
        }
        Run(0, prefill);
        for (int i = prefill; i < tokens.Length; i++) Run(i, 1);
        return result;
    }

    /// <summary>Standard deviation of all logits (a scale to read differences against).</summary>
    public static double Spread(float[,] logits)
    {
        double sum = 0, sq = 0;
        foreach (float x in logits) { sum += x; sq += (double)x * x; }
        double mean = sum / logits.Length;
        return Math.Sqrt(sq / logits.Length - mean * mean);
    }
}
