// NonFiniteTests: NaN/Inf weights are found in every format (vectorised counts equal the scalar reference), named
// with tensor and count on load, quantize and inspect, and loadable on request; NaN metrics are never recorded.
using System.Buffers.Binary;
using Compression.Checkpoints;
using Compression.Checkpoints.Gguf;
using Compression.Checkpoints.Safetensors;
using Compression.Evaluation.Metrics;
using Compression.Evaluation.Tasks;
using Compression.Evaluation.Tasks.KlDivergence;
using Compression.Evaluation.Tasks.Perplexity;
using Compression.Tests.Evaluation;
using Compression.Inference;
using Compression.Quantization;

namespace Compression.Tests.Robustness;

public sealed class NonFiniteTests
{
    [Fact]
    public void Vectorised_counts_match_the_scalar_definition_over_lengths_that_hit_the_tails()
    {
        var random = new Random(5);
        // Edge patterns: ±Inf, quiet/signalling NaN with payloads, the largest finite values, subnormals, zeros.
        uint[] special32 = [0x7F800000, 0xFF800000, 0x7FC00000, 0x7F800001, 0xFFFFFFFF, 0x7F7FFFFF, 0xFF7FFFFF, 0x00000001, 0x80000000, 0];
        ushort[] special16 = [0x7C00, 0xFC00, 0x7E00, 0x7C01, 0xFFFF, 0x7BFF, 0xFBFF, 0x0001, 0x8000, 0];
        ushort[] specialBf = [0x7F80, 0xFF80, 0x7FC0, 0x7F81, 0xFFFF, 0x7F7F, 0xFF7F, 0x0001, 0x8000, 0];
        for (int n = 0; n <= 300; n++)
        {
            var a = new uint[n];
            var h = new ushort[n];
            var bf = new ushort[n];
            for (int i = 0; i < n; i++)
            {
                bool pick = random.Next(4) == 0;
                a[i] = pick ? special32[random.Next(special32.Length)] : BitConverter.SingleToUInt32Bits((float)random.NextDouble());
                h[i] = pick ? special16[random.Next(special16.Length)] : BitConverter.HalfToUInt16Bits((Half)random.NextDouble());
                bf[i] = pick ? specialBf[random.Next(specialBf.Length)] : (ushort)(BitConverter.SingleToUInt32Bits((float)random.NextDouble()) >> 16);
            }
            Assert.Equal(a.Count(x => !float.IsFinite(BitConverter.UInt32BitsToSingle(x))), NonFinite.Count32(a));
            Assert.Equal(h.Count(x => !Half.IsFinite(BitConverter.UInt16BitsToHalf(x))), NonFinite.Count16(h, 0x7C00));
            Assert.Equal(bf.Count(x => !float.IsFinite(BitConverter.UInt32BitsToSingle((uint)x << 16))), NonFinite.Count16(bf, 0x7F80));
        }
        // A long run: 16-bit lane counters must be flushed before they wrap.
        var many = Enumerable.Repeat((ushort)0x7C00, 70_000 * 32 + 5).ToArray();
        Assert.Equal(many.Length, NonFinite.Count16(many, 0x7C00));
    }

    /// <summary>The fixture with <paramref name="count"/> values of <paramref name="tensor"/> set to NaN/Inf.</summary>
    private static string FixtureWithNonFinite(string tensor, int count)
    {
        string dir = RobustnessFiles.CopyFixture("nan");
        string path = Path.Combine(dir, "model.safetensors");
        long offset;
        using (var st = SafetensorsFile.Open(path)) offset = st.Tensors[tensor].Offset;
        var bytes = File.ReadAllBytes(path);
        for (int i = 0; i < count; i++)
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan((int)offset + 4 * (i * 7)), i % 3 == 0 ? float.NaN : i % 3 == 1 ? float.PositiveInfinity : float.NegativeInfinity);
        File.WriteAllBytes(path, bytes);
        return dir;
    }

    [Fact]
    public void Loading_names_the_tensor_and_the_count_and_allow_nonfinite_loads_anyway()
    {
        string dir = FixtureWithNonFinite("model.layers.1.mlp.down_proj.weight", 5);
        var e = Assert.Throws<InvalidDataException>(() => ModelSession.Open(dir));
        Assert.Contains("model.layers.1.mlp.down_proj.weight", e.Message);
        Assert.Contains("5 non-finite", e.Message);
        Assert.Contains("model.safetensors", e.Message);
        using var session = ModelSession.Open(dir, new ModelSessionOptions { AllowNonFinite = true });
        Assert.Equal(2, session.Config.NumLayers);
    }

    [Fact]
    public void Quantize_refuses_non_finite_weights_and_writes_nothing()
    {
        string dir = FixtureWithNonFinite("model.layers.0.self_attn.q_proj.weight", 2);
        string outPath = Path.Combine(TestPaths.NewTempDir("nanq"), "out.gguf");
        using var input = CheckpointOpener.Open(dir);
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q4_0"));
        var e = Assert.Throws<InvalidDataException>(() =>
            GgufExporter.Write(input, input.LoadTokenizerData()!, (s, n) => policy.Choose(s, n), outPath));
        Assert.Contains("model.layers.0.self_attn.q_proj.weight", e.Message);
        Assert.Contains("2 non-finite", e.Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(outPath)!));
        GgufExporter.Write(input, input.LoadTokenizerData()!, (s, n) => policy.Choose(s, n), outPath, new GgufExportOptions { AllowNonFinite = true });
        Assert.True(File.Exists(outPath));
    }

    [Fact]
    public void An_infinite_fp16_scale_in_a_quantized_gguf_is_counted_like_the_reference()
    {
        string path = Path.Combine(TestPaths.NewTempDir("q4inf"), "m.gguf");
        File.Copy(TestPaths.TinyLlamaFile("model-q4_0.gguf"), path);
        GgufTensorInfo target;
        using (var f = GgufFile.Open(path)) target = f.Tensors.First(t => t.Format.Name == "q4_0");
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan((int)target.Offset + 18 * 3), 0x7C00); // block 3's scale d = +Inf
        File.WriteAllBytes(path, bytes);
        using var c = GgufCheckpoint.Open(path);
        var t = c.Tensors.Values.Single(x => x.FileTensorName == target.Name);
        long count = NonFinite.Count(t);
        Assert.Equal(NonFinite.CountReference(t), count);
        Assert.Equal(32, count); // every weight of the block: Inf × q, and 0 × Inf = NaN
        Assert.Throws<InvalidDataException>(() => NonFinite.Check(c));
    }

    [Fact]
    public void Rope_frequency_factors_of_zero_or_infinity_are_refused()
    {
        foreach (float bad in new[] { 0f, float.PositiveInfinity, float.NaN, -1f })
        {
            using var input = CheckpointOpener.Open(TestPaths.TinyLlama);
            string outPath = Path.Combine(TestPaths.NewTempDir("rope"), "m.gguf");
            var factors = Enumerable.Repeat(1f, input.Config.HeadDim / 2).ToArray();
            factors[2] = bad;
            GgufExporter.Write(input, input.LoadTokenizerData()!, (_, _) => FormatRegistry.F32, outPath,
                new GgufExportOptions { RopeFrequencyFactors = factors });
            var e = Assert.Throws<InvalidDataException>(() => GgufCheckpoint.Open(outPath));
            Assert.Contains("rope_freqs.weight[2]", e.Message);
        }
    }

    [Fact]
    public void Perplexity_and_kl_of_a_model_with_nan_outputs_are_errors_not_records()
    {
        var broken = new CharModel("ab", _ => [double.NaN, 0.5, 0.5]);
        var ppl = Assert.Throws<InvalidDataException>(() => new PerplexityTask(new WindowOptions { ContextLength = 5 }).Run(broken, "abba"));
        Assert.Contains("non-finite", ppl.Message);
        var kl = Assert.Throws<InvalidDataException>(() => new KlDivergenceTask(new WindowOptions { ContextLength = 5 }).Run(CharModel.Bigram(), broken, "abba"));
        Assert.Contains("non-finite", kl.Message);
        // The same text with a healthy model scores.
        Assert.True(double.IsFinite(new PerplexityTask(new WindowOptions { ContextLength = 5 }).Run(CharModel.Bigram(), "abba").Perplexity));
    }

    [Fact]
    public void A_non_finite_metric_is_an_error_naming_the_metric()
    {
        Assert.Equal(2.5, FiniteMetric.Require(2.5, "perplexity", "ppl"));
        foreach (double bad in new[] { double.NaN, double.PositiveInfinity, double.NegativeInfinity })
        {
            var e = Assert.Throws<InvalidDataException>(() => FiniteMetric.Require(bad, "perplexity", "wikitext"));
            Assert.StartsWith("wikitext: perplexity", e.Message);
        }
    }
}
