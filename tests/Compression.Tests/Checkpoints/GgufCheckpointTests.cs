// GgufCheckpointTests: the fixture GGUF opens as a checkpoint equal to the HF checkpoint it was converted from.
using Compression.Checkpoints.Gguf;
using Compression.Model;
using Compression.Quantization;
using Compression.Tokenization;

namespace Compression.Tests.Checkpoints;

public class GgufCheckpointTests
{
    private static GgufCheckpoint OpenF32() => GgufCheckpoint.Open(TestPaths.TinyLlamaFile("model-f32.gguf"));

    [Fact]
    public void ConfigMatchesConfigJson()
    {
        using var gguf = OpenF32();
        var hf = LlamaConfig.Load(TestPaths.TinyLlamaFile("config.json"));
        var c = gguf.Config;
        Assert.Equal("gguf", gguf.Kind);
        Assert.Equal(hf.HiddenSize, c.HiddenSize);
        Assert.Equal(hf.IntermediateSize, c.IntermediateSize);
        Assert.Equal(hf.NumLayers, c.NumLayers);
        Assert.Equal(hf.NumHeads, c.NumHeads);
        Assert.Equal(hf.NumKeyValueHeads, c.NumKeyValueHeads);
        Assert.Equal(hf.HeadDim, c.HeadDim);
        Assert.Equal(hf.VocabSize, c.VocabSize);
        Assert.Equal(hf.RmsNormEps, c.RmsNormEps);   // exact: f32 metadata widened via its shortest decimal
        Assert.Equal(hf.RopeTheta, c.RopeTheta);
        Assert.Equal(hf.MaxPositionEmbeddings, c.MaxPositionEmbeddings);
        Assert.Equal(hf.TieWordEmbeddings, c.TieWordEmbeddings);
        Assert.Equal(hf.BosTokenIds, c.BosTokenIds);
        Assert.Equal(hf.EosTokenIds, c.EosTokenIds);
        Assert.Null(c.RopeScaling); // carried by rope_freqs instead
        Assert.Equal("tiny", gguf.Name);
    }

    [Fact]
    public void RopeFactorsMatchLlama3Scaling()
    {
        using var gguf = OpenF32();
        var hf = LlamaConfig.Load(TestPaths.TinyLlamaFile("config.json"));
        var factors = gguf.RopeFrequencyFactors!;
        Assert.Equal(hf.HeadDim / 2, factors.Count);
        var unscaled = RotaryEmbedding.InverseFrequencies(hf with { RopeScaling = null });
        var scaled = RotaryEmbedding.InverseFrequencies(hf);
        for (int i = 0; i < factors.Count; i++)
            Assert.True(Math.Abs(factors[i] - unscaled[i] / scaled[i]) <= 1e-6 * (unscaled[i] / scaled[i]), $"factor {i}: {factors[i]} vs {unscaled[i] / scaled[i]}");
        // The fixture really exercises all three bands (kept, interpolated, divided by 8).
        Assert.Contains(factors, f => f == 1f);
        Assert.Contains(factors, f => f == 8f);
        Assert.Contains(factors, f => f is > 1f and < 8f);
        // And the converter's float32 computation is reproduced bit for bit.
        Assert.Equal(factors.ToArray(), GgufRopeFactors.FromConfig(hf));
        // The model's frequencies are the same whichever way the scaling arrives.
        var viaFactors = RotaryEmbedding.InverseFrequencies(gguf.Config, factors);
        for (int i = 0; i < factors.Count; i++) Assert.Equal(scaled[i], viaFactors[i], scaled[i] * 1e-6);
    }

    [Fact]
    public void EveryTensorEqualsTheHfTensor()
    {
        using var gguf = OpenF32();
        using var hf = Compression.Checkpoints.Safetensors.SafetensorsCheckpoint.Open(TestPaths.TinyLlama);
        Assert.Equal(hf.Tensors.Keys.Order(), gguf.Tensors.Keys.Order());
        foreach (var (name, expected) in hf.Tensors)
        {
            var actual = gguf[name];
            Assert.Equal(expected.Shape, actual.Shape);
            Assert.Equal(FormatRegistry.F32, actual.Format);
            Assert.True(expected.ToFloat32().AsSpan().SequenceEqual(actual.ToFloat32()), $"{name} differs from model.safetensors");
        }
    }

    [Fact]
    public void QueryAndKeyRowsAreStoredPermuted()
    {
        using var gguf = OpenF32();
        foreach (var (name, heads) in new[] { ("model.layers.0.self_attn.q_proj.weight", 4), ("model.layers.1.self_attn.k_proj.weight", 2) })
        {
            var t = gguf[name];
            Assert.NotNull(t.RowOrder);
            // Without un-permuting the rows would not match: the stored order differs from HF's.
            var raw = gguf.File.FindTensor(t.FileTensorName)!;
            var storedRow1 = gguf.File.Mapped.Span(raw.Offset + t.RowBytes, (int)t.RowBytes);
            Assert.False(storedRow1.SequenceEqual(t.Row(1)));
            // HF row 16 (head 0, second half, pair 0) is stored as row 1.
            Assert.True(storedRow1.SequenceEqual(t.Row(16)));
            Assert.Equal(GgufTensorNames.StoredRowOfHfRow((int)t.Rows, heads), t.RowOrder);
        }
        Assert.Null(gguf["model.layers.0.self_attn.v_proj.weight"].RowOrder);
    }

    [Fact]
    public void TokenizerComesFromMetadata()
    {
        using var gguf = OpenF32();
        var t = gguf.Tokenizer!;
        Assert.Equal(512, t.Tokens.Count);
        Assert.Equal(512, t.TokenTypes.Count);
        Assert.Equal(254, t.Merges.Count);
        Assert.Equal("Ġ t", t.Merges[0]);
        Assert.Equal(510, t.BosId);
        Assert.Equal(511, t.EosId);
        Assert.Equal("<|begin_of_text|>", t.Tokens[510]);
        Assert.Equal(TokenType.Control, t.TokenTypes[510]);
        Assert.Equal(TokenType.Normal, t.TokenTypes[0]);
        Assert.Equal("llama-bpe", t.Pre);
        Assert.True(t.AddBos);
        Assert.True(t.IgnoreMerges);
    }

    /// <summary>
    /// The llama-quantize fixtures: readable once their format is registered (then every weight must point the
    /// same way as the HF weight — a wrong Q/K row order gives a cosine near 0), a clear error until then.
    /// </summary>
    [Theory]
    [InlineData("model-q8_0.gguf", 8u)]
    [InlineData("model-q4_0.gguf", 2u)]
    [InlineData("model-q1_0.gguf", 41u)]
    public void QuantizedFixturesOpenOrNameTheirType(string file, uint type)
    {
        string path = TestPaths.TinyLlamaFile(file);
        if (FormatRegistry.ByGgmlType((int)type) is null)
        {
            var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(path));
            Assert.Contains(path, e.Message);
            Assert.Contains($"type {GgmlTypes.Describe(type)}", e.Message);
            Assert.Contains("not supported", e.Message);
            return;
        }
        using var gguf = GgufCheckpoint.Open(path);
        using var hf = Compression.Checkpoints.Safetensors.SafetensorsCheckpoint.Open(TestPaths.TinyLlama);
        foreach (var (name, expected) in hf.Tensors)
        {
            float[] a = expected.ToFloat32(), b = gguf[name].ToFloat32();
            double dot = 0, na = 0, nb = 0;
            for (int i = 0; i < a.Length; i++) { dot += a[i] * (double)b[i]; na += a[i] * (double)a[i]; nb += b[i] * (double)b[i]; }
            Assert.True(dot / Math.Sqrt(na * nb) > 0.7, $"{file} {name}: cosine {dot / Math.Sqrt(na * nb)}");
        }
    }
}
