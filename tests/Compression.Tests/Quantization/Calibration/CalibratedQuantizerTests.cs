// CalibratedQuantizerTests: layer-by-layer calibration on the fixture model — memory flat across blocks, AWQ's folding
// exact in float, AWQ with α = 0 and RTN giving the same bytes, GPTQ closer to the float logits than RTN.
using Compression.Inference;
using Compression.Model;
using Compression.Quantization;
using Compression.Quantization.Calibration;
using Compression.Quantization.Methods;
using Compression.Tests.Model;
using Xunit.Abstractions;

namespace Compression.Tests.Quantization.Calibration;

public class CalibratedQuantizerTests(ITestOutputHelper output)
{
    private static ModelSession Open() =>
        ModelSession.Open(TestPaths.TinyLlamaFile("model-f32.gguf"), new ModelSessionOptions { PackedLayers = PackedLoading.Hooks });

    internal static IReadOnlyList<int[]> RandomTokens(int vocab, int n, int length, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => Enumerable.Range(0, length).Select(_ => rng.Next(vocab)).ToArray()).ToList();
    }

    [Fact]
    public void Live_tensor_count_is_flat_across_blocks()
    {
        using var session = Open();
        var config = session.Config with { NumLayers = 5 };
        using var model = LlamaModel.CreateRandom(config, seed: 7);
        var live = new List<long>();
        using var q = CalibratedQuantizer.Apply(model, QuantizationPolicy.Default(FormatRegistry.Get("int4_g32")), GptqMethod.Default,
            RandomTokens(config.VocabSize, 4, 32, 1), blockDone: _ => live.Add(TorchSharp.DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        output.WriteLine(string.Join(", ", live));
        Assert.Equal(5, live.Count);
        Assert.All(live, n => Assert.Equal(live[0], n));
    }

    [Fact]
    public void Awq_folding_leaves_the_float_logits_unchanged()
    {
        using var session = Open();
        var f32 = session.Model;
        var before = f32.Logits(ReferenceLogits.PromptTokens);
        // Embedding and head kept at f32 too (the default keeps them at f16), so only the folding can change the logits.
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q4_0")) with { KeepFormat = FormatRegistry.F32 };
        using var folded = CalibratedQuantizer.Apply(f32, policy, new AwqMethod([0.5]),
            RandomTokens(f32.Config.VocabSize, 8, 32, 2), null, null, keepFloat: true);
        // The scales really moved weight between norms and projections …
        Assert.NotEqual(Values(f32.Layers[0].InputNorm.Weight), Values(folded.Layers[0].InputNorm.Weight));
        double diff = ReferenceLogits.MaxAbsDiff(folded.Logits(ReferenceLogits.PromptTokens), before);
        output.WriteLine($"AWQ-folded float model vs original: max |Δlogit| {diff:G3}");
        Assert.True(diff <= 1e-5, $"max |Δlogit| {diff:G3}");
    }

    [Fact]
    public void Awq_with_exponent_zero_is_round_to_nearest()
    {
        using var session = Open();
        var policy = QuantizationPolicy.Default(FormatRegistry.Get("q4_0"));
        using var rtn = ModelQuantizer.Apply(session.Model, policy);
        using var awq0 = CalibratedQuantizer.Apply(session.Model, policy, new AwqMethod([0.0]), RandomTokens(session.Config.VocabSize, 4, 16, 3));
        var a = rtn.LinearLayers().ToDictionary(l => l.Name, l => Bytes(l.Layer));
        foreach (var (name, layer) in awq0.LinearLayers()) Assert.Equal(a[name], Bytes(layer));
    }

    [Theory]
    [InlineData("int4_g32")]
    [InlineData("q4_0")]
    public void Gptq_and_imatrix_bring_the_logits_closer_to_float_than_rtn(string name)
    {
        using var session = Open();
        var f32 = session.Model;
        var before = f32.Logits(ReferenceLogits.PromptTokens);
        var policy = QuantizationPolicy.Default(FormatRegistry.Get(name));
        var calibration = RandomTokens(f32.Config.VocabSize, 16, 64, 4);
        double Error(LlamaModel m) => Rms(m.Logits(ReferenceLogits.PromptTokens), before);
        using var rtn = ModelQuantizer.Apply(f32, policy);
        using var gptq = CalibratedQuantizer.Apply(f32, policy, GptqMethod.Default, calibration);
        double eRtn = Error(rtn), eGptq = Error(gptq);
        output.WriteLine($"{name}: rms Δlogit RTN {eRtn:G4}, GPTQ {eGptq:G4}");
        Assert.True(eGptq < eRtn, $"GPTQ {eGptq:G4} vs RTN {eRtn:G4}");
    }

    [Fact]
    public void A_method_that_cannot_produce_the_format_is_a_clear_error()
    {
        using var session = Open();
        var e = Assert.Throws<NotSupportedException>(() => CalibratedQuantizer.Apply(session.Model, QuantizationPolicy.Default(FormatRegistry.Get("int8")),
            GptqMethod.Default, RandomTokens(session.Config.VocabSize, 2, 8, 5)));
        Assert.Contains("'gptq' cannot produce format 'int8'", e.Message);
        Assert.Contains("unknown method 'gptqq'", Assert.Throws<ArgumentException>(() => MethodRegistry.Get("gptqq")).Message);
    }

    private static float[] Values(TorchSharp.torch.Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    private static byte[] Bytes(LinearLayer layer) => layer switch
    {
        PackedLinear p => Enumerable.Range(0, p.Weight.Rows).SelectMany(r => p.Weight.Row(r).ToArray()).ToArray(),
        DenseLinear d => d.Weight.detach().contiguous().bytes.ToArray(),
        _ => throw new InvalidOperationException(),
    };

    private static double Rms(float[,] a, float[,] b)
    {
        double s = 0;
        foreach (var (x, y) in a.Cast<float>().Zip(b.Cast<float>())) s += (x - y) * (double)(x - y);
        return Math.Sqrt(s / a.Length);
    }
}
